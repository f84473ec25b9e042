//! Spans that must come back from translation unchanged: redaction placeholders (`[SSN]`), plan names, dollar
//! amounts, phone numbers and URLs.
//!
//! The text goes to a provider as HTML, each protected span inside `<span translate="no">`, which both Amazon
//! Translate and DeepL (`tag_handling=html`) leave alone. On the way back the markup is removed, and a translation
//! that lost or changed any protected span is refused (the router then tries the next provider).

use regex::Regex;
use std::sync::LazyLock;

/// Names of the plan and its programs, kept in English.
pub const PLAN_NAMES: &[&str] = &[
    "SCAN Classic",
    "SCAN Health Plan",
    "SCAN",
    "Medicare Advantage",
    "Original Medicare",
    "Medicare",
    "Medi-Cal",
    "Medicaid",
    "HMO",
];

static PROTECTED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let names = PLAN_NAMES
        .iter()
        .map(|n| regex::escape(n))
        .collect::<Vec<_>>()
        .join("|");
    let pattern = format!(
        r"\[[A-Z_]{{2,20}}\]|https?://[^\s<>]*[^\s<>.,;:!?)]|\$\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\$\d+(?:\.\d+)?|(?:\+?1[-. ]?)?(?:\(\d{{3}}\)\s?|\d{{3}}[-. ])\d{{3}}[-. ]\d{{4}}|(?-u:\b)(?:{names})(?-u:\b)"
    );
    Regex::new(&pattern).ok()
});

/// The markup around a protected span, as [`protect`] writes it.
pub(crate) const OPEN: &str = "<span translate=\"no\">";
pub(crate) const CLOSE: &str = "</span>";

/// A text ready for a provider, and the spans that must survive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    pub html: String,
    pub spans: Vec<String>,
}

pub fn protect(text: &str) -> Protected {
    let mut html = String::with_capacity(text.len() + 64);
    let mut spans = Vec::new();
    let mut at = 0;
    if let Some(pattern) = PROTECTED.as_ref() {
        for m in pattern.find_iter(text) {
            html.push_str(&escape(&text[at..m.start()]));
            html.push_str(OPEN);
            html.push_str(&escape(m.as_str()));
            html.push_str(CLOSE);
            spans.push(m.as_str().to_string());
            at = m.end();
        }
    }
    html.push_str(&escape(&text[at..]));
    Protected { html, spans }
}

/// The provider's HTML back to text; `None` if a protected span was lost or changed.
pub fn restore(translated_html: &str, protected: &Protected) -> Option<String> {
    let mut text = String::with_capacity(translated_html.len());
    let mut rest = translated_html;
    let mut kept = Vec::new();
    while let Some(open) = rest.find(OPEN).or_else(|| rest.find("<span translate=no>")) {
        text.push_str(&rest[..open]);
        let after_open = &rest[open..];
        let content_start = after_open.find('>')? + 1;
        let close = after_open.find(CLOSE)?;
        let inner = unescape(&after_open[content_start..close]);
        text.push_str(&inner);
        kept.push(inner);
        rest = &after_open[close + CLOSE.len()..];
    }
    text.push_str(rest);
    let mut expected = protected.spans.clone();
    expected.sort();
    kept.sort();
    (kept == expected).then(|| unescape(&text))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_spans_are_wrapped_and_the_rest_escaped() {
        let p = protect("SCAN Classic: copay $20 < $90, call (510) 555-0147 or see https://scanhealthplan.com [SSN].");
        assert_eq!(
            p.spans,
            vec![
                "SCAN Classic",
                "$20",
                "$90",
                "(510) 555-0147",
                "https://scanhealthplan.com",
                "[SSN]"
            ]
        );
        assert!(
            p.html
                .contains("<span translate=\"no\">$20</span> &lt; <span translate=\"no\">$90</span>")
        );
    }

    #[test]
    fn a_translation_that_keeps_every_span_is_restored() {
        let p = protect("Your copay is $20 with SCAN Classic [SSN].");
        let translated = p.html.replace("Your copay is", "Su copago es").replace("with", "con");
        assert_eq!(
            restore(&translated, &p).unwrap(),
            "Su copago es $20 con SCAN Classic [SSN]."
        );
    }

    #[test]
    fn a_translation_that_changed_a_span_is_refused() {
        let p = protect("Your copay is $1,500.");
        let changed = p.html.replace("$1,500", "1.500 $");
        assert!(restore(&changed, &p).is_none());
        let dropped = "Su copago es alto.";
        assert!(restore(dropped, &p).is_none());
    }
}
