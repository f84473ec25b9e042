//! Street addresses: a house number, a street name and a street type (`2218 Linden Street`, `77 Bayview Terrace`,
//! `1450 Calle Ocho`), or a post office box (`PO Box 4410`, `Apartado Postal 12`), with the city, state and ZIP that
//! follow, if any.

use regex::Regex;
use std::sync::LazyLock;

use crate::{Detection, Kind};

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    let street_types = "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Terrace|Ter|Place|Pl|\
                        Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Alley|Loop";
    let city_state_zip = r"(?:,?\s+(?:Apt|Unit|Suite|#)\.?\s*\w+)?(?:,\s*[A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+){0,2})?(?:,\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?";
    let english = format!(
        r"(?-u:\b)\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-zA-Z]+\s+){{1,3}}(?:{street_types})(?-u:\b)\.?{city_state_zip}"
    );
    let spanish = format!(
        r"(?-u:\b)(?:Calle|Avenida|Av\.|Camino|Paseo)\s+(?:[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+\s+){{0,3}}\d{{1,6}}(?-u:\b){city_state_zip}"
    );
    let post_box =
        format!(r"(?-u:\b)(?i:P\.?\s?O\.?\s+Box|Apartado(?:\s+Postal)?)\s+\d{{1,6}}(?-u:\b){city_state_zip}");
    let pattern = format!(
        "{english}|{spanish}|{post_box}|(?-u:\\b)\\d{{1,6}}\\s+(?:Calle|Avenida)\\s+[A-ZÁÉÍÓÚÑ][\\wáéíóúñ]+{city_state_zip}"
    );
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(&pattern).expect("valid address pattern")
});

pub fn find(text: &str) -> Vec<Detection> {
    ADDRESS
        .find_iter(text)
        .map(|m| {
            let matched = m.as_str().trim_end_matches(['.', ',']);
            Detection {
                kind: Kind::Address,
                start: m.start(),
                end: m.start() + matched.len(),
                score: 0.85,
            }
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
    fn street_city_state_zip() {
        assert_eq!(
            found("This is me, 2218 Linden Street, Oakland, CA 94607. I moved"),
            vec!["2218 Linden Street, Oakland, CA 94607"]
        );
        assert_eq!(
            found("billing address 77 Bayview Terrace, San Mateo, CA 94401."),
            vec!["77 Bayview Terrace, San Mateo, CA 94401"]
        );
        assert_eq!(found("vivo en Calle Ocho 1450, Miami"), vec!["Calle Ocho 1450, Miami"]);
    }

    #[test]
    fn post_office_boxes() {
        assert_eq!(
            found("Mail it to PO Box 4410, Hayward, CA 94540."),
            vec!["PO Box 4410, Hayward, CA 94540"]
        );
        assert_eq!(found("send to P.O. Box 17 please"), vec!["P.O. Box 17"]);
        assert!(found("check the box 3 on the form").is_empty());
    }

    #[test]
    fn counts_and_amounts_are_not_addresses() {
        assert!(found("up to 30 visits per year and 24 one-way rides").is_empty());
        assert!(found("Section 2 Medical Benefits Chart").is_empty());
    }
}
