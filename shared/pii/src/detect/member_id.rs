//! Member and policy ids, in context: "member ID is SCN40918273", "policy number: A12-345678", "número de afiliado
//! 12345678", "Member ID: SCN 4091 8273". Only the value is redacted, and only a value holding a digit.

use regex::Regex;
use std::sync::LazyLock;

use crate::{Detection, Kind};

static MEMBER_ID: LazyLock<Regex> = LazyLock::new(|| {
    // A cue names the id: "member ID", "policy number", "número de afiliado"; or the id follows a bare "ID" (a
    // header's "ID: SCN…", "ID de miembro"), or "member" / "miembro" right before it ("member SCN21259600").
    //
    // Spanish names the card or the number itself: "credencial número", "número de identificación del plan", "No. de
    // afiliado", "ID de SCAN".
    //
    // A group number is not among them: every member of an employer's group shares it ("Group 80840" on every card).
    let cue = r"(?i:member|subscriber|policy|plan|insurance|scan|medi-cal|medicaid)\s*(?i:id|identification|number|num|no\.?|#)|(?i:(?:n[úu]mero|no\.|#)\s+de\s+(?:afiliad[oa]|afiliaci[óo]n|miembro|p[óo]liza|socio|credencial|tarjeta|identificaci[óo]n)(?:\s+(?:del?|en)\s+(?:plan|SCAN|seguro|la\s+tarjeta))?)|(?i:credencial(?:\s+(?:n[úu]mero|no\.?|#))?)|(?i:(?:member|membership|scan|plan|insurance|id)\s+card\s+(?:number|num|no\.?|#))|(?i:n[úu]mero\s+(?:de|en)\s+(?:mi\s+|la\s+)?tarjeta(?:\s+de\s+(?:SCAN|miembro|plan|seguro))?)|(?-u:\b)(?i:id)(?:\s+(?i:de\s+(?:miembro|afiliad[oa]|SCAN|plan|seguro)|number|no\.?|#))?|(?-u:\b)(?i:member|miembro|afiliad[oa])";
    let pattern = format!(
        r"(?:{cue})\s*(?i:is|es|:|=|#)?\s*:?\s*([A-Za-z]{{0,4}}-?\d[A-Za-z0-9-]{{4,18}}|[A-Za-z]{{0,4}}[- ]?\d{{3,8}}(?: \d{{2,8}}){{1,3}})(?-u:\b)"
    );
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(&pattern).expect("valid member id pattern")
});

/// Whether `before` ends with the word "group" (only its last word is read, not the whole text before a cue).
fn after_group(before: &str) -> bool {
    before
        .split_whitespace()
        .next_back()
        .is_some_and(|word| word.to_lowercase().ends_with("group"))
}

pub fn find(text: &str) -> Vec<Detection> {
    MEMBER_ID
        .captures_iter(text)
        // "Group ID 80840": the group's id, on every member's card alike.
        .filter(|caps| caps.get(0).is_some_and(|cue| !after_group(&text[..cue.start()])))
        .filter_map(|caps| caps.get(1))
        .filter(|value| value.as_str().chars().filter(char::is_ascii_digit).count() >= 4)
        .map(|value| Detection {
            kind: Kind::MemberId,
            start: value.start(),
            end: value.end(),
            score: 0.9,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        crate::detect::matched(text, find(text))
    }

    #[test]
    fn ids_after_their_cue() {
        assert_eq!(found("My member ID is SCN40918273 and"), vec!["SCN40918273"]);
        assert_eq!(found("policy number: A12-345678."), vec!["A12-345678"]);
        assert_eq!(found("mi número de afiliado es 88412390"), vec!["88412390"]);
    }

    #[test]
    fn ids_after_a_bare_id_or_member() {
        assert_eq!(found("Member Jae Kwak, ID SCN10143467, DOB"), vec!["SCN10143467"]);
        assert_eq!(
            found("born Sept. 5, 1951, member SCN21259600: does"),
            vec!["SCN21259600"]
        );
        assert_eq!(
            found("Birthdate: 06/18/1950\nID: SCN51546818\nCan I"),
            vec!["SCN51546818"]
        );
        assert_eq!(
            found("RE: Evangelina Soto, ID de miembro SCN57859883"),
            vec!["SCN57859883"]
        );
    }

    #[test]
    fn ids_after_a_cue_in_any_case_or_naming_the_card() {
        assert_eq!(found("id number 0077219384 plz resend"), vec!["0077219384"]);
        assert_eq!(found("Member ID #: 40918273"), vec!["40918273"]);
        assert_eq!(found("credencial numero 1002 4478 35, es de"), vec!["1002 4478 35"]);
        assert_eq!(found("No. de afiliado: 8812-4471"), vec!["8812-4471"]);
        assert_eq!(found("my member card number is 4471 0092 18"), vec!["4471 0092 18"]);
        assert_eq!(found("el número en mi tarjeta es SCN7781234"), vec!["SCN7781234"]);
        assert_eq!(found("mi ID de SCAN es S7731-0042-9 y"), vec!["S7731-0042-9"]);
        assert_eq!(
            found("Mi número de identificación del plan es 55910374, ¿cuánto"),
            vec!["55910374"]
        );
    }

    #[test]
    fn ids_written_in_groups() {
        assert_eq!(found("Member ID: SCN 4091 8273"), vec!["SCN 4091 8273"]);
        assert_eq!(found("member number 4091 8273 015, and"), vec!["4091 8273 015"]);
        assert!(found("I have been a member 2019 to 2024").is_empty());
    }

    #[test]
    fn a_member_word_before_other_words_is_no_id() {
        assert!(found("I have been a member since 2019 and").is_empty());
        assert!(found("Is the member handbook 2025 online?").is_empty());
        assert!(found("my id card came with the wrong address").is_empty());
        assert!(found("Is the group number 80840 the same for all members?").is_empty());
        assert!(found("Is the group ID 80840 the same for all members?").is_empty());
        assert!(found("la credencial nueva llegó en 2025 con otro nombre").is_empty());
        assert!(found("I'd like 2025 coverage").is_empty());
    }

    #[test]
    fn no_cue_or_no_digits_is_no_id() {
        assert!(found("SCN40918273").is_empty());
        assert!(found("my member ID card is lost").is_empty());
    }
}
