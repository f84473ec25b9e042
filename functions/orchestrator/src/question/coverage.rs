//! Whether a message also asks what the plan covers or costs: a member who asks which treatment to choose and
//! whether it is covered gets the clinical part refused and the coverage part answered.

use navigator_platform::text::contains_phrase;

/// The plan-benefit vocabulary, in English and Spanish.
pub const COVERAGE_CUES: &[&str] = &[
    "cover",
    "covers",
    "covered",
    "coverage",
    "copay",
    "copayment",
    "coinsurance",
    "deductible",
    "cost",
    "costs",
    "pay",
    "price",
    "my plan",
    "prior authorization",
    "referral",
    "in network",
    "in-network",
    "cubre",
    "cubierto",
    "cubierta",
    "cobertura",
    "copago",
    "coseguro",
    "deducible",
    "costo",
    "cuesta",
    "pagar",
    "pago",
    "mi plan",
    "autorización previa",
];

/// Whether `message` asks about coverage or cost.
pub fn asks_about_coverage(message: &str) -> bool {
    let lower = message.to_lowercase();
    COVERAGE_CUES.iter().any(|cue| contains_phrase(&lower, cue))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_parts_in_either_language() {
        assert!(asks_about_coverage(
            "Should I get the knee replacement or try injections, and is the surgery covered?"
        ));
        assert!(asks_about_coverage("¿Debo operarme o no? ¿Cuánto cuesta la cirugía?"));
        assert!(!asks_about_coverage("Should I double my insulin dose tonight?"));
        assert!(!asks_about_coverage("Which antidepressant is best for me?"));
    }
}
