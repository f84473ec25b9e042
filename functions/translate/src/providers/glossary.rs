//! The embedded default translator: Spanish questions into English, term by term (`navigator_language::spanish`:
//! a health-plan glossary, then everyday vocabulary). No network, no model, microseconds a question. Protected spans
//! are never touched. It translates nothing into Spanish, so offline answers stay in English with a note; a
//! configured provider (Amazon Translate, DeepL) does both directions.

use futures_util::future::BoxFuture;
use navigator_language::spanish::translate_text;
use navigator_resilience::Deadline;

use super::{Provider, ProviderFailure};
use crate::protect::{CLOSE, OPEN};

/// The glossary translator.
#[derive(Debug, Clone, Copy, Default)]
pub struct GlossaryTranslator;

impl GlossaryTranslator {
    /// Translates HTML from the router: protected spans are copied, the text between them translated.
    pub fn translate_html(html: &str) -> String {
        let mut out = String::with_capacity(html.len() + 32);
        let mut rest = html;
        let mut sentence_start = true;
        while let Some(open) = rest.find(OPEN) {
            out.push_str(&translate_text(&rest[..open], &mut sentence_start));
            let span = &rest[open..];
            let end = span.find(CLOSE).map_or(span.len(), |close| close + CLOSE.len());
            out.push_str(&span[..end]);
            sentence_start = false;
            rest = &span[end..];
        }
        out.push_str(&translate_text(rest, &mut sentence_start));
        out
    }
}

impl Provider for GlossaryTranslator {
    fn name(&self) -> &'static str {
        navigator_platform::contracts::TERM_BY_TERM_PROVIDER
    }

    fn supports(&self, source: &str, target: &str) -> bool {
        source == "es" && target == "en"
    }

    fn translate<'a>(
        &'a self,
        html: &'a str,
        _source: &'a str,
        _target: &'a str,
        _deadline: Deadline,
    ) -> BoxFuture<'a, Result<String, ProviderFailure>> {
        let translated = Self::translate_html(html);
        Box::pin(async move { Ok(translated) })
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::protect::{protect, restore};

    fn translate(text: &str) -> String {
        let protected = protect(text);
        let html = GlossaryTranslator::translate_html(&protected.html);
        restore(&html, &protected).expect("protected spans survive")
    }

    #[test]
    fn questions_become_english_a_search_can_match() {
        assert_eq!(
            translate("¿Cuántas visitas de quiropráctico de rutina cubre el plan al año?"),
            "How many visits of chiropractic routine covers the plan per year?"
        );
        assert_eq!(
            translate("cuanto cuesta una cita"),
            "how much does it cost a appointment"
        );
    }

    #[test]
    fn names_amounts_and_placeholders_pass_untouched() {
        assert_eq!(
            translate("¿El Hospital de Stanford está en la red de SCAN Classic? Pagué $250 y mi [SSN]"),
            "The Hospital of Stanford is in the network of SCAN Classic? I paid $250 and my [SSN]"
        );
    }

    #[test]
    fn only_spanish_into_english() {
        let glossary = GlossaryTranslator;
        assert!(glossary.supports("es", "en"));
        assert!(!glossary.supports("en", "es") && !glossary.supports("zh", "en"));
    }
}
