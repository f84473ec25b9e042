//! The embedded default translator: Spanish questions into English, term by term, with a health-plan glossary
//! (`data/glossary-es-en.tsv`). No network, no model, microseconds a question.
//!
//! It is not a general translator. It exists so that, offline, a Spanish question reaches an English plan document
//! as English words: "¿Cuánto pago por día si me internan en un hospital psiquiátrico?" becomes "How much do I pay
//! per day if I am admitted in a psychiatric hospital?", which search and the extractive composer can match. Words it
//! does not know (names, most cognates) pass through unchanged; protected spans are never touched. It translates
//! nothing into Spanish, so offline answers stay in English with a note; a configured provider (Amazon Translate,
//! DeepL) does both directions.

use futures_util::future::BoxFuture;
use navigator_resilience::Deadline;
use std::collections::HashMap;
use std::sync::LazyLock;

use super::{Provider, ProviderFailure};
use crate::protect::{CLOSE, OPEN};

const GLOSSARY: &str = include_str!("../../data/glossary-es-en.tsv");
/// The longest Spanish phrase in the glossary, in words.
const MAX_PHRASE_WORDS: usize = 4;

/// The parsed glossary: phrases and words, and readings for a question's first word.
#[derive(Debug, Default)]
struct Glossary {
    terms: HashMap<String, String>,
    question_start: HashMap<String, String>,
}

static PARSED: LazyLock<Glossary> = LazyLock::new(|| parse(GLOSSARY));

fn parse(text: &str) -> Glossary {
    let mut glossary = Glossary::default();
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (spanish, english) = line.split_once('\t').unwrap_or((line, ""));
        let (at_start, spanish) = match spanish.strip_prefix('^') {
            Some(word) => (true, word),
            None => (false, spanish),
        };
        entries.push((at_start, spanish.trim().to_lowercase(), english.trim().to_string()));
    }
    for (at_start, key, english) in &entries {
        table(&mut glossary, *at_start).insert(key.clone(), english.clone());
    }
    // Accents are optional wherever that is unambiguous: "cuanto" finds "cuánto", but "esta" stays "this" because
    // it is an entry of its own.
    let written: std::collections::HashSet<String> = entries.iter().map(|(_, key, _)| key.clone()).collect();
    for (at_start, key, english) in entries {
        let plain = strip_accents(&key);
        if !written.contains(&plain) {
            table(&mut glossary, at_start).entry(plain).or_insert(english);
        }
    }
    glossary
}

fn table(glossary: &mut Glossary, at_start: bool) -> &mut HashMap<String, String> {
    if at_start {
        &mut glossary.question_start
    } else {
        &mut glossary.terms
    }
}

/// Lower-case vowels without their accents; ñ stays (año is not ano).
fn strip_accents(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'á' | 'à' => 'a',
            'é' | 'è' => 'e',
            'í' | 'ì' => 'i',
            'ó' | 'ò' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            other => other,
        })
        .collect()
}

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
        "glossary"
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

/// A piece of text: a word, or anything between words.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Word(&'a str),
    Other(&'a str),
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    let is_word_char = |c: char| c.is_alphanumeric() || c == '-';
    for (at, c) in text.char_indices() {
        let word_char = is_word_char(c);
        if at > start && word_char != in_word {
            out.push(if in_word {
                Token::Word(&text[start..at])
            } else {
                Token::Other(&text[start..at])
            });
            start = at;
        }
        in_word = word_char;
    }
    if start < text.len() {
        out.push(if in_word {
            Token::Word(&text[start..])
        } else {
            Token::Other(&text[start..])
        });
    }
    out
}

/// Translates plain text (HTML-escaped, no spans). `sentence_start` carries across spans.
fn translate_text(text: &str, sentence_start: &mut bool) -> String {
    let glossary = &*PARSED;
    let tokens = tokens(text);
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i] {
            Token::Other(other) => {
                // Spanish opens a question or an exclamation with ¿ and ¡; English does not.
                let kept: String = other.chars().filter(|c| !matches!(c, '¿' | '¡')).collect();
                if other.chars().any(|c| matches!(c, '¿' | '¡' | '.' | '?' | '!')) {
                    *sentence_start = true;
                }
                out.push_str(&kept);
                i += 1;
            }
            Token::Word(word) => {
                let (english, used) = lookup(glossary, &tokens[i..], *sentence_start);
                let english = english.unwrap_or_else(|| word.to_string());
                let capital = word.chars().next().is_some_and(char::is_uppercase);
                if english.is_empty() {
                    // A dropped word takes the space after it along.
                    i += used;
                    if let Some(Token::Other(" ")) = tokens.get(i) {
                        i += 1;
                    }
                    continue;
                }
                out.push_str(&if capital { capitalise(&english) } else { english });
                *sentence_start = false;
                i += used;
            }
        }
    }
    out
}

/// The English for the longest glossary phrase starting at `tokens[0]`, and how many tokens it spans.
fn lookup(glossary: &Glossary, tokens: &[Token<'_>], sentence_start: bool) -> (Option<String>, usize) {
    // Phrases: words joined by single spaces only ("hospital psiquiátrico", not "hospital, psiquiátrico").
    let mut words: Vec<String> = Vec::new();
    let mut spans = Vec::new();
    for (at, token) in tokens.iter().enumerate() {
        match token {
            Token::Word(word) => {
                words.push(word.to_lowercase());
                spans.push(at + 1);
                if words.len() == MAX_PHRASE_WORDS {
                    break;
                }
            }
            Token::Other(" ") => {}
            Token::Other(_) => break,
        }
    }
    for n in (2..=words.len()).rev() {
        let phrase = words[..n].join(" ");
        if let Some(english) = find(&glossary.terms, &phrase) {
            return (Some(english), spans[n - 1]);
        }
    }
    let Some(word) = words.first() else {
        return (None, 1);
    };
    if sentence_start && let Some(english) = find(&glossary.question_start, word) {
        return (Some(english), 1);
    }
    (find(&glossary.terms, word), 1)
}

fn find(table: &HashMap<String, String>, key: &str) -> Option<String> {
    table.get(key).or_else(|| table.get(&strip_accents(key))).cloned()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
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
    fn the_glossary_parses_with_no_entry_lost() {
        let lines = GLOSSARY
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        let glossary = &*PARSED;
        assert!(
            glossary.terms.len() + glossary.question_start.len() >= lines,
            "a duplicate key"
        );
        assert!(
            GLOSSARY
                .lines()
                .all(|l| l.starts_with('#') || l.split('\t').count() <= 2)
        );
    }

    #[test]
    fn questions_become_english_a_search_can_match() {
        assert_eq!(
            translate("¿Cuánto pago por día si me internan en un hospital psiquiátrico?"),
            "How much do I pay per day if I am admitted in a psychiatric hospital?"
        );
        assert_eq!(
            translate("¿Cuántas visitas de quiropráctico de rutina cubre el plan al año?"),
            "How many visits of chiropractic routine covers the plan per year?"
        );
        assert_eq!(
            translate("¿Qué cubre mi plan para los audífonos?"),
            "What covers my plan for the hearing aids?"
        );
    }

    #[test]
    fn accents_are_optional_unless_they_change_the_word() {
        assert_eq!(
            translate("cuanto cuesta una cita"),
            "how much does it cost a appointment"
        );
        assert_eq!(translate("esta visita"), "this visit");
        assert_eq!(translate("¿Está cubierta esta visita?"), "Is covered this visit?");
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
