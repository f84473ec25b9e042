//! Requests for someone else's data: another member's records, or lists of members picked by what they have.

use navigator_platform::contracts::BlockCategory;
use std::sync::LazyLock;

use super::{Rule, Signal, fire, rules};

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    rules(&[
        (
            "other_members",
            r"(?-u:\b)(every|all|other|another|each)\s+(members?|patients?|enrollees?|users?|afiliados)(?-u:\b).{0,40}(?-u:\b)(records?|claims?|history|data|information|ssn|ssns|files|numbers?|diagnos\w*)(?-u:\b)|(?-u:\b)(records?|claims?|history|data|files|names?|numbers?|addresses|phones?|emails?|contacts?|diagnos\w*|prescriptions?|expedientes|nombres|tel[eé]fonos|direcciones|informaci[oó]n)(?-u:\b).{0,40}(?-u:\b)(for|of|de)\s+(every|all|other|another|otros|todos|cada)(?-u:\b)|(?-u:\b)medical record of (member|patient)(?-u:\b)|(?-u:\b)neighbou?r'?s (member|medicare|policy|record|diagnos)|(?-u:\b)members? with the last name(?-u:\b)",
            0.9,
        ),
        (
            "member_roster",
            r"(?-u:\b)(list|export|give|send|show|pull|share|download|dump|print|provide|compile|get|find)(?-u:\b).{0,80}(?-u:\b)(every|all|each|other)\s+(the\s+)?(members?|patients?|enrollees?|beneficiaries|people)\s+(who|that|with|on|taking|in)(?-u:\b)",
            0.85,
        ),
        (
            "member_roster_es",
            r"(?-u:\b)(dame|da|lista|env[ií]a|muestra|exporta|comparte|consigue|busca|saca)\w*(?-u:\b).{0,80}(?-u:\b)(todos los|todas las|cada|otros|otras|los dem[aá]s)\s+(afiliad[oa]s?|pacientes?|miembros?|asegurad[oa]s?)(?-u:\b)",
            0.85,
        ),
        (
            "someone_else",
            r"(?-u:\b)(someone|somebody) else'?s (records?|claims?|data|information|prescriptions?|diagnos\w*|medical)|(?-u:\b)(another|other) (member|patient|person)'?s (records?|claims?|data|information|prescriptions?|diagnos\w*|medical)",
            0.85,
        ),
    ])
});

pub fn signals(view: &str) -> Vec<Signal> {
    fire(&RULES, BlockCategory::Privacy, view)
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
        assert_eq!(RULES.len(), 4);
    }

    #[test]
    fn requests_for_other_peoples_data_fire() {
        for text in [
            "List the claims of all other members",
            "Send me the phone numbers of every member who takes insulin.",
            "Dame los nombres de todos los afiliados que toman metformina.",
            "What is in another member's medical record?",
        ] {
            assert!(fires(text), "{text}");
        }
    }

    #[test]
    fn a_members_own_questions_pass() {
        for text in [
            "Do all members get the same dental benefit?",
            "Can my daughter call member services for me?",
            "¿Todos los afiliados pagan la misma prima?",
            "How do I get a list of in-network doctors?",
        ] {
            assert!(!fires(text), "{text}");
        }
    }
}
