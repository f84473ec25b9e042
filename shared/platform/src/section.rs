//! A numbered section of a plan document, the way the documents cite one: "Chapter 3, Section 2.4", or
//! "Section 2.4" alone. Medicare plan documents follow one model layout, so a reference such as "see Section 2.4 in
//! this chapter" names exactly one heading, and retrieval can read that section on purpose.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::NavigatorError;

/// The deepest numbering the documents use ("Section 2.4"), with room for one more level.
const MAX_LEVELS: usize = 3;

/// A section reference. Its text form is `Chapter N, Section X.Y` or `Section X.Y`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SectionRef {
    /// The chapter, when the reference names one.
    pub chapter: Option<u16>,
    /// The section number, "2" or "2.4".
    pub number: String,
}

impl SectionRef {
    /// Parses `Chapter N, Section X.Y` or `Section X.Y` (any case, spaces around the comma optional).
    pub fn parse(text: &str) -> Result<Self, NavigatorError> {
        let invalid = || {
            NavigatorError::invalid(format!(
                "section must look like \"Chapter 3, Section 2.4\" or \"Section 2.4\", not {text:?}"
            ))
        };
        let lower = text.trim().to_lowercase();
        let (chapter, rest) = match lower.strip_prefix("chapter ") {
            Some(rest) => {
                let (number, rest) = rest.split_once(',').ok_or_else(invalid)?;
                let chapter = number.trim().parse::<u16>().map_err(|_| invalid())?;
                (Some(chapter), rest.trim())
            }
            None => (None, lower.as_str()),
        };
        let number = rest.strip_prefix("section ").ok_or_else(invalid)?.trim();
        if !is_section_number(number) {
            return Err(invalid());
        }
        Ok(Self {
            chapter,
            number: number.to_string(),
        })
    }

    /// The chapter number a chunk's section path starts with ("CHAPTER 3: Using the plan › Section 2.4 ...").
    pub fn chapter_of(section_path: &str) -> Option<u16> {
        let rest = section_path.trim_start().strip_prefix("CHAPTER ")?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }

    /// Whether a chunk's section path is this section: its chapter (when named) and its own heading number. A
    /// subsection ("Section 2.4.1", "Section 2.41") is not the section.
    pub fn holds(&self, section_path: &str) -> bool {
        if self.chapter.is_some() && Self::chapter_of(section_path) != self.chapter {
            return false;
        }
        let heading = section_path.rsplit(" › ").next().unwrap_or_default().to_lowercase();
        heading
            .strip_prefix("section ")
            .and_then(|rest| rest.strip_prefix(self.number.as_str()))
            .is_some_and(|after| after.is_empty() || after.starts_with(' '))
    }

    /// SQL `LIKE` patterns a section path must match, both case-insensitively: its chapter prefix, and its
    /// heading. Only digits and dots come from the reference, so no pattern character needs escaping.
    pub fn like_patterns(&self) -> (String, String) {
        let chapter = match self.chapter {
            Some(chapter) => format!("CHAPTER {chapter}:%"),
            None => "%".to_string(),
        };
        (chapter, format!("% › section {} %", self.number))
    }
}

fn is_section_number(number: &str) -> bool {
    let parts: Vec<&str> = number.split('.').collect();
    parts.len() <= MAX_LEVELS
        && parts
            .iter()
            .all(|part| (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
}

impl fmt::Display for SectionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.chapter {
            Some(chapter) => write!(f, "Chapter {chapter}, Section {}", self.number),
            None => write!(f, "Section {}", self.number),
        }
    }
}

impl TryFrom<String> for SectionRef {
    type Error = NavigatorError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<SectionRef> for String {
    fn from(section: SectionRef) -> Self {
        section.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_the_documents_use() {
        let full = SectionRef::parse("Chapter 3, Section 2.4").unwrap();
        assert_eq!(full.chapter, Some(3));
        assert_eq!(full.number, "2.4");
        assert_eq!(full.to_string(), "Chapter 3, Section 2.4");
        let bare = SectionRef::parse(" section 5 ").unwrap();
        assert_eq!((bare.chapter, bare.number.as_str()), (None, "5"));
        assert_eq!(SectionRef::parse("CHAPTER 9,Section 5.3").unwrap().chapter, Some(9));
    }

    #[test]
    fn rejects_anything_else_with_a_clear_message() {
        for bad in [
            "",
            "Section",
            "Section two",
            "Section 2.",
            "Section 2..4",
            "Section 1.2.3.4",
            "Chapter x, Section 2",
            "Chapter 3 Section 2",
            "Section 2%",
            "Section 2_4",
        ] {
            let error = SectionRef::parse(bad).unwrap_err();
            assert!(error.to_string().contains("Chapter 3, Section 2.4"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn holds_its_own_heading_only() {
        let section = SectionRef::parse("Chapter 3, Section 2.4").unwrap();
        let path = "CHAPTER 3: Using the plan for your medical services › Section 2.4 How to get care";
        assert!(section.holds(path));
        assert!(
            !section.holds("CHAPTER 4: Benefits › Section 2.4 How to get care"),
            "another chapter"
        );
        assert!(
            !section.holds("CHAPTER 3: Using the plan › Section 2.41 Other"),
            "a longer number"
        );
        assert!(
            !section.holds("CHAPTER 3: Using the plan › Section 2.4.1 Detail"),
            "a subsection"
        );
        let top = SectionRef::parse("Section 3").unwrap();
        assert!(top.holds("CHAPTER 3: Using the plan › SECTION 3 How to get services in an emergency"));
        assert!(!top.holds("CHAPTER 3: Using the plan › Section 3.1 Getting care"));
    }

    #[test]
    fn reads_the_chapter_of_a_section_path() {
        assert_eq!(SectionRef::chapter_of("CHAPTER 12: Definitions › Section 1"), Some(12));
        assert_eq!(SectionRef::chapter_of("CHAPTER 7: › Section 3.1 We check"), Some(7));
        assert_eq!(SectionRef::chapter_of("SECTION 2 Use providers 40 . . ."), None);
    }

    #[test]
    fn travels_as_its_text_form() {
        let section: SectionRef = serde_json::from_str("\"Chapter 1, Section 2.2\"").unwrap();
        assert_eq!(serde_json::to_string(&section).unwrap(), "\"Chapter 1, Section 2.2\"");
        assert!(serde_json::from_str::<SectionRef>("\"Appendix B\"").is_err());
    }
}
