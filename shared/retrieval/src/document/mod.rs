//! Plan documents in, text with page numbers out. PDF through `pdf-extract`'s parser (pure Rust) read by position
//! ([`layout`]: reading order, two-column tables row by row); Markdown and plain text as they are, with form feeds
//! as page breaks.

pub mod isolated;
pub mod layout;
mod normalize;
pub mod upload;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

pub use normalize::normalize_text;

use navigator_platform::NavigatorError;

/// One page of extracted text. Pages are numbered from 1, as a PDF viewer counts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub number: u32,
    pub text: String,
}

/// What kind of file a document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentKind {
    Pdf,
    Markdown,
    Text,
}

/// A document ready to chunk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceDocument {
    pub title: String,
    /// SHA-256 of the file's bytes: the document's identity for idempotent ingest.
    pub sha256: String,
    pub kind: DocumentKind,
    pub pages: Vec<Page>,
}

/// Reads and extracts a file, choosing the format by its extension.
pub fn load(path: &Path) -> Result<SourceDocument, NavigatorError> {
    let bytes = std::fs::read(path).map_err(|e| NavigatorError::invalid(format!("{}: {e}", path.display())))?;
    from_file_bytes(path, &bytes)
}

/// Extracts a file's bytes already read, naming and typing the document by its path.
pub fn from_file_bytes(path: &Path, bytes: &[u8]) -> Result<SourceDocument, NavigatorError> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "document".into());
    let kind = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("pdf") => DocumentKind::Pdf,
        Some("md" | "markdown") => DocumentKind::Markdown,
        Some("txt" | "text") | None => DocumentKind::Text,
        Some(other) => {
            return Err(NavigatorError::invalid(format!(
                "unsupported file type .{other}: use PDF, Markdown or text"
            )));
        }
    };
    from_bytes(&name, kind, bytes)
}

/// The SHA-256 of a file's bytes, as hex: a document's identity.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Extracts a document from its bytes.
pub fn from_bytes(name: &str, kind: DocumentKind, bytes: &[u8]) -> Result<SourceDocument, NavigatorError> {
    let sha256 = sha256_hex(bytes);
    let raw_pages = match kind {
        DocumentKind::Pdf => {
            layout::pages(bytes).map_err(|e| NavigatorError::invalid(format!("{name}: not a readable PDF: {e}")))?
        }
        DocumentKind::Markdown | DocumentKind::Text => {
            let text =
                std::str::from_utf8(bytes).map_err(|_| NavigatorError::invalid(format!("{name}: not UTF-8 text")))?;
            text.split('\u{c}').map(str::to_string).collect()
        }
    };
    let pages: Vec<Page> = raw_pages
        .iter()
        .enumerate()
        .map(|(i, text)| Page {
            number: i as u32 + 1,
            text: normalize_text(text),
        })
        .collect();
    if pages.iter().all(|p| p.text.trim().is_empty()) {
        return Err(NavigatorError::invalid(format!(
            "{name}: no text found (a scanned PDF needs OCR first)"
        )));
    }
    let title = running_title(&pages).unwrap_or_else(|| name.replace(['_', '-'], " "));
    Ok(SourceDocument {
        title,
        sha256,
        kind,
        pages,
    })
}

/// The running header pages repeat (an Evidence of Coverage prints its title on many pages), if any: the most
/// repeated line seen on at least 15 % of pages, chapter headers aside.
fn running_title(pages: &[Page]) -> Option<String> {
    if pages.len() < 4 {
        return None;
    }
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for page in pages {
        let mut seen = std::collections::HashSet::new();
        // Layout text puts the page number on the title's line ("2025 Evidence of Coverage   80"): it goes.
        for line in page
            .text
            .lines()
            .map(without_page_number)
            .filter(|l| l.split_whitespace().count() >= 3)
        {
            if seen.insert(line.clone()) {
                *counts.entry(line).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .filter(|(line, count)| {
            let common = *count >= 4 && *count * 100 >= pages.len() * 15;
            common && line.len() <= 120 && !line.starts_with("Chapter") && !line.starts_with("Section")
        })
        .max_by_key(|(line, count)| (*count, std::cmp::Reverse(line.len())))
        .map(|(line, _)| line)
}

/// A line squeezed to single spaces, without a page number at either end.
fn without_page_number(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let is_number = |w: &&str| w.len() <= 3 && w.chars().all(|c| c.is_ascii_digit());
    let start = usize::from(words.len() > 1 && words.first().is_some_and(is_number));
    let end = words.len() - usize::from(words.len() > start + 1 && words.last().is_some_and(is_number));
    words[start..end].join(" ")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_pages_split_on_form_feeds_and_hash_the_bytes() {
        let doc = from_bytes("plan", DocumentKind::Text, "Page one.\u{c}Page two.".as_bytes()).unwrap();
        assert_eq!(doc.pages.len(), 2);
        assert_eq!(
            doc.pages[1],
            Page {
                number: 2,
                text: "Page two.".into()
            }
        );
        assert_eq!(doc.sha256.len(), 64);
        assert_eq!(doc.title, "plan");
    }

    #[test]
    #[ignore = "prints the sample plan's pages as the layout reader sees them"]
    fn dump_layout() {
        let bytes = std::fs::read("../../data/sample/scan_classic_hmo.pdf").unwrap();
        let pages = layout::pages(&bytes).unwrap();
        let out: Vec<String> = pages
            .iter()
            .enumerate()
            .map(|(i, p)| format!("=== page {}\n{p}", i + 1))
            .collect();
        std::fs::write("/tmp/layout-pages.txt", out.join("\n")).unwrap();
    }

    #[test]
    fn an_empty_document_is_an_error() {
        assert!(from_bytes("blank", DocumentKind::Text, b"   \n").is_err());
        assert!(from_bytes("binary", DocumentKind::Text, &[0xff, 0xfe, 0x00]).is_err());
        assert!(from_bytes("junk", DocumentKind::Pdf, b"not a pdf").is_err());
    }
}
