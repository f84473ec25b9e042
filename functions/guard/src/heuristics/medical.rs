//! Unsafe medical decisions: a diagnosis, or whether to start, stop or change a treatment or a dose. These need a
//! clinician (or 911), not a plan assistant; coverage questions about the same things are fine.

use navigator_platform::contracts::BlockCategory;
use std::sync::LazyLock;

use regex::Regex;

use super::{Rule, Signal, fire, rules};

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    rules(&[
        (
            "treatment_decision",
            // Changing a dose is a decision whatever follows; stopping or starting is one only when what follows is a
            // medicine or a treatment ("when do I start paying?", "how do I start?" are not).
            r"(?-u:\b)(should|can|could|may|do)\s+i\s+(double|triple|halve|take more|take less|take extra|mix|combine)(?-u:\b)|(?-u:\b)(should|can|could|may|do)\s+i\s+(stop|quit|start|skip|increase|decrease|reduce|cut|come off|go off)\s+(taking|using|(\w+\s+){0,2}(med\w*|pills?|tablets?|doses?|dosage|insulin|chemo\w*|dialysis|antibiotics?|statins?|inhalers?|injections?|shots?|treatments?|drugs?|prescriptions?))(?-u:\b)",
            0.9,
        ),
        (
            "dose",
            r"(?-u:\b)how (many|much)(?-u:\b).{0,30}(?-u:\b)(can|should|do)\s+i\s+take(?-u:\b)|(?-u:\b)what (dose|dosage)(?-u:\b).{0,30}(?-u:\b)(should|can|do)(?-u:\b)|(?-u:\b)(double|triple)\s+(my|the)\s+\w+\s+(dose|dosage)(?-u:\b)|(?-u:\b)(overdose|od)(?-u:\b).{0,20}(?-u:\b)how(?-u:\b)",
            0.9,
        ),
        (
            "which_drug",
            r"(?-u:\b)which (antibiotic|medication|medicine|drug|pill|painkiller)(?-u:\b).{0,30}(?-u:\b)should i (take|use)(?-u:\b)|(?-u:\b)what (antibiotic|medication|medicine|drug|pill)(?-u:\b).{0,20}(?-u:\b)should i (take|use)(?-u:\b)",
            0.9,
        ),
        (
            "diagnosis",
            r#"(?-u:\b)(is it|is this|could it be|do i have|have i got)\s+(a |an )?(heart attack|stroke|cancer|tumou?r|diabetes|infection|covid|pneumonia|appendicitis|melanoma|blood clot|sepsis|serious)(?-u:\b)|(?-u:\b)what do i have\s*([?.!,;:)"'\-]|$)|(?-u:\b)diagnose me(?-u:\b)|(?-u:\b)what('?s| is) wrong with me(?-u:\b)"#,
            0.9,
        ),
        (
            "emergency_wait",
            r"(?-u:\b)(chest pain|can'?t breathe|cannot breathe|trouble breathing|face drooping|slurred speech|crushing)(?-u:\b).{0,120}(?-u:\b)(wait|should i|is it|can i)(?-u:\b)",
            0.95,
        ),
        (
            "treatment_decision_es",
            r"(?-u:\b)(debo|puedo|deber[ií]a)\s+(dejar de tomar|dejar|suspender|empezar a tomar|doblar|duplicar|aumentar|reducir|tomar m[aá]s)(?-u:\b)",
            0.9,
        ),
        (
            "diagnosis_es",
            r"(?-u:\b)(es|ser[aá])\s+(un |una )?(c[aá]ncer|infarto|derrame|tumor|diabetes|infecci[oó]n)\s*\?|(?-u:\b)d[ií]game qu[eé] tengo(?-u:\b)|(?-u:\b)qu[eé] tengo\s*\?|(?-u:\b)tengo (c[aá]ncer|diabetes|un infarto)\s*\?",
            0.9,
        ),
        (
            "dose_es",
            r"(?-u:\b)cu[aá]nt[oa]s?\s+(pastillas|tabletas|mg|miligramos)(?-u:\b).{0,30}(?-u:\b)(puedo|debo)\s+tomar(?-u:\b)|(?-u:\b)qu[eé] dosis(?-u:\b)",
            0.9,
        ),
    ])
});

/// "Can I stop my plan", "can I start therapy, or is it not covered?": about coverage, not a treatment decision.
static COVERAGE_FRAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(covered|cover|coverage|pay for|cost|copay\w*|my plan|the plan|benefit|referral|authorization|cubre|cobertura)(?-u:\b)").ok()
});

pub fn signals(view: &str) -> Vec<Signal> {
    let mut signals = fire(&RULES, BlockCategory::UnsafeMedical, view);
    if COVERAGE_FRAME.as_ref().is_some_and(|frame| frame.is_match(view)) {
        signals.retain(|signal| signal.rule != "treatment_decision");
    }
    signals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::view;

    fn fires(text: &str) -> bool {
        !signals(&view(text)).is_empty()
    }

    #[test]
    fn every_rule_compiles() {
        assert_eq!(RULES.len(), 8);
    }

    #[test]
    fn decisions_and_diagnoses_fire() {
        for text in [
            "Should I stop taking my metformin?",
            "How many tramadol can I take at night?",
            "Which medicine should I take for a sore throat?",
            "Is it a stroke? My face feels numb.",
            "I have chest pain since this morning, can I wait until tomorrow?",
            "¿Debo dejar de tomar la pastilla de la presión?",
            "Me salió un bulto. ¿Es cáncer?",
        ] {
            assert!(fires(text), "{text}");
        }
    }

    #[test]
    fn coverage_questions_about_the_same_things_pass() {
        for text in [
            "Does my plan cover heart attack treatment in the hospital?",
            "What's the diagnosis code on my claim from March?",
            "Can I stop my plan and go back to Original Medicare?",
            "Does the plan pay for Narcan in case my grandson overdoses?",
            "My pain doctor wants to kill the nerve in my lower back. Is that covered?",
            "Can I start physical therapy without a referral, or is it not covered?",
        ] {
            assert!(!fires(text), "{text}");
        }
    }

    #[test]
    fn what_a_member_has_to_do_is_no_diagnosis() {
        for text in [
            "What do I have to sign to get care at a religious non-medical health care institution?",
            "What do I have to prove to qualify for the AIDS drug program in California?",
            "I'm leaving SCAN for Original Medicare plus a stand-alone Part D plan. What do I have to do?",
            "What do I have left to pay on my out-of-pocket maximum?",
        ] {
            assert!(!fires(text), "{text}");
        }
        for text in [
            "I have a rash and a fever. What do I have?",
            "what do i have, is it serious",
            "Tell me what do I have",
            "what do I have: a cold or the flu",
            "\"what do I have\" is all I want to know",
        ] {
            assert!(fires(text), "{text}");
        }
    }

    #[test]
    fn starting_or_stopping_something_other_than_a_treatment_is_no_decision() {
        for text in [
            "If the review organization agrees with my discharge date and I stay anyway, when do I start paying?",
            "My daughter says you can explain my benefits. How do I start?",
            "Can I stop hospice later if I change my mind?",
        ] {
            assert!(!fires(text), "{text}");
        }
        for text in [
            "Should I stop taking my lisinopril?",
            "Can I skip my insulin tonight?",
            "Should I quit the chemo pills?",
            "Can I take more of my pain pills?",
        ] {
            assert!(fires(text), "{text}");
        }
    }
}
