//! Street addresses: a house number, a street name and a street type (`2218 Linden Street`, `77 Bayview Terrace`,
//! `1187 E 14th St`, `1450 Calle Ocho`, `calle Mission 4521`), or a post office box (`PO Box 4410`, `Apartado Postal
//! 12`), with the unit, city, state and ZIP that follow, if any (commas or not).
//!
//! An organisation's address is public, not personal: one that names a suite, or follows the name of a hospital,
//! clinic, pharmacy, office or plan (`Washington Hospital, 2000 Mowry Ave`, `SCAN Health Plan\n3800 Kilroy Airport
//! Way, Suite 100`), stays.

use regex::Regex;
use std::sync::LazyLock;

use crate::{Detection, Kind};

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    let street_types = "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Terrace|Ter|Place|Pl|\
                        Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Alley|Loop";
    // Longer words first, each a whole word: "apto 5" is not "apt" and "o 5".
    let unit = r"(?:,?\s+(?:(?i:apartamento|apartment|apto|apt|unit|suite|ste|departamento|depto|dpto|interior|int)(?-u:\b)\.?|\#)\s*\w+)?";
    let city = r"[A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+){0,2}";
    // Without commas a city is read only before a ZIP: "... St apt 210 San Leandro 94577", not "... St Is it".
    let city_state_zip = format!(
        r"{unit}(?:,?\s+{city}(?:,?\s+[A-Z]{{2}})?,?\s+\d{{5}}(?:-\d{{4}})?|(?:,\s*{city})?(?:,\s*[A-Z]{{2}})?(?:\s+\d{{5}}(?:-\d{{4}})?)?)"
    );
    let english = format!(
        r"(?-u:\b)\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:(?:[A-Z][a-zA-Z]+|\d{{1,3}}(?:st|nd|rd|th))\s+){{1,3}}(?:{street_types})(?-u:\b)\.?{city_state_zip}"
    );
    // "camino" and "paseo" are also everyday words ("camino 30 minutos"): only capitalised do they name a street.
    let spanish = format!(
        r"(?-u:\b)(?:(?i:calle|avenida|av\.)|Camino|Paseo)\s+(?:[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+\s+){{0,3}}\d{{1,6}}(?-u:\b){city_state_zip}"
    );
    let post_box =
        format!(r"(?-u:\b)(?i:P\.?\s?O\.?\s+Box|Apartado(?:\s+Postal)?)\s+\d{{1,6}}(?-u:\b){city_state_zip}");
    let pattern = format!(
        "{english}|{spanish}|{post_box}|(?-u:\\b)\\d{{1,6}}\\s+(?i:calle|avenida)\\s+[A-ZÁÉÍÓÚÑ][\\wáéíóúñ]+{city_state_zip}"
    );
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(&pattern).expect("valid address pattern")
});

/// Words that end an organisation's name: an address right after one is where the organisation is.
const ORGANISATIONS: &[&str] = &[
    "hospital",
    "clinic",
    "center",
    "centre",
    "pharmacy",
    "plan",
    "office",
    "offices",
    "department",
    "group",
    "inc",
    "llc",
    "services",
    "administration",
    "hospital",
    "clínica",
    "farmacia",
    "oficina",
    "oficinas",
];

/// Whether the address is an organisation's: it names a suite, or follows an organisation's name, capitalised after
/// another capitalised word ("Washington Hospital", "SCAN Health Plan"; not "my home office at", "with the plan:").
fn public(text: &str, start: usize, address: &str) -> bool {
    let suite = address
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case("suite") || w.eq_ignore_ascii_case("ste"));
    let before = text[..start].trim_end_matches([' ', ',', ':', '\n', '\r', '\t', '-', '—']);
    let before = before.strip_suffix(" at").unwrap_or(before);
    let mut words = before
        .rsplit(|c: char| !c.is_alphanumeric() && c != '.')
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty());
    let capitalised = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    let organisation = words
        .next()
        .is_some_and(|w| capitalised(w) && ORGANISATIONS.contains(&w.to_lowercase().as_str()));
    suite || (organisation && words.next().is_some_and(capitalised))
}

pub fn find(text: &str) -> Vec<Detection> {
    ADDRESS
        .find_iter(text)
        .filter(|m| !public(text, m.start(), m.as_str()))
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
    fn units_ordinals_and_cities_without_commas() {
        assert_eq!(
            found("vivo en 1187 E 14th St apt 210 San Leandro 94577 mandenme"),
            vec!["1187 E 14th St apt 210 San Leandro 94577"]
        );
        assert_eq!(
            found("Mi domicilio es calle Mission 4521, depto 6, Hayward, CA 94544. ¿Ya"),
            vec!["calle Mission 4521, depto 6, Hayward, CA 94544"]
        );
        assert_eq!(found("at 12 Oak St Is it covered?"), vec!["12 Oak St"]);
        assert_eq!(
            found("vivo en calle Mission 4521 apto 5, Hayward, CA 94544"),
            vec!["calle Mission 4521 apto 5, Hayward, CA 94544"]
        );
        assert!(found("Yo camino 30 minutos al día y doy un paseo 2 veces").is_empty());
    }

    #[test]
    fn an_organisations_address_stays() {
        assert!(found("Is the urgent care at Washington Hospital, 2000 Mowry Ave, Fremont, CA 94538 in").is_empty());
        assert!(found("SCAN Health Plan\n3800 Kilroy Airport Way, Suite 100\nLong Beach").is_empty());
        assert_eq!(
            found("I live near the hospital. My address is 2218 Linden Street, Oakland"),
            vec!["2218 Linden Street, Oakland"]
        );
        assert_eq!(
            found("Please update my address with the plan: 2218 Linden Street, Oakland"),
            vec!["2218 Linden Street, Oakland"]
        );
        assert_eq!(
            found("I work from my home office at 2218 Linden Street"),
            vec!["2218 Linden Street"]
        );
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
