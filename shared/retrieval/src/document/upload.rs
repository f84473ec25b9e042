//! What an uploaded file must be before anything of it is stored: a safe name, a PDF, Markdown or text file by its
//! bytes (not only its name), not empty, not over the size or page caps, not encrypted, and holding text. Each
//! refusal is a [`Rejection`] whose [`Rejection::reason`] the member reads in `GET /v1/documents`.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::{DocumentKind, SourceDocument, from_bytes, layout};

/// The caps an upload is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// The largest file accepted.
    pub max_bytes: usize,
    /// The most pages a PDF may have (an Evidence of Coverage runs to about 250).
    pub max_pages: usize,
    /// How long reading a file's text may take before it is refused as built to exhaust time.
    pub extract_time: Duration,
    /// The memory the process reading one file may use (its data segment and heap).
    pub memory_bytes: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_bytes: documents::MAX_UPLOAD_BYTES as usize,
            max_pages: 600,
            extract_time: Duration::from_secs(120),
            memory_bytes: 1 << 30,
        }
    }
}

use navigator_platform::documents;
pub use navigator_platform::documents::MAX_FILE_NAME_BYTES;

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// A path, a control character, or an empty or overlong name.
    BadFileName,
    /// Not a PDF, Markdown or text file, by name or by content.
    UnsupportedType,
    Empty,
    TooLarge {
        bytes: usize,
        max: usize,
    },
    TooManyPages {
        pages: usize,
        max: usize,
    },
    /// A PDF that needs a password to open.
    Encrypted,
    /// A PDF whose pages hold no text layer: a scan.
    NoText,
    /// A file that claims a type it cannot be read as.
    Unreadable,
    /// Reading its text took longer than any plan document should.
    TooSlow,
    /// Reading it used more memory than any plan document should, or crashed the reader.
    Exhausting,
}

impl Rejection {
    /// What the member reads: what is wrong, and what to do.
    pub fn reason(&self) -> String {
        match self {
            Self::BadFileName => format!(
                "the file name must be 1 to {MAX_FILE_NAME_BYTES} bytes with no path separators or control characters"
            ),
            Self::UnsupportedType => "not a PDF, Markdown or text file".into(),
            Self::Empty => "the file is empty (zero bytes)".into(),
            Self::TooLarge { bytes, max } => format!(
                "the file is {:.1} MB; the limit is {:.1} MB",
                *bytes as f64 / 1_048_576.0,
                *max as f64 / 1_048_576.0
            ),
            Self::TooManyPages { pages, max } => format!("the PDF has {pages} pages; the limit is {max}"),
            Self::Encrypted => "the PDF is password-protected: upload a copy without a password".into(),
            Self::NoText => {
                "no text could be read: this looks like a scanned (image-only) PDF; upload a PDF with text, \
                 or run it through OCR first"
                    .into()
            }
            Self::Unreadable => "the file could not be read as the type its name says".into(),
            Self::TooSlow => "the file took too long to read; it may be damaged".into(),
            Self::Exhausting => {
                "reading the file needed more memory than any plan document should; it may be damaged".into()
            }
        }
    }
}

/// The file name, if it is one a member may upload under (`navigator_platform::documents::check_file_name`).
pub fn check_file_name(name: &str) -> Result<&str, Rejection> {
    documents::check_file_name(name).map_err(|_| Rejection::BadFileName)
}

/// The file's kind, by its name and confirmed by its bytes.
pub fn kind_of(name: &str, bytes: &[u8]) -> Result<DocumentKind, Rejection> {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let kind = match extension.as_deref() {
        Some("pdf") => DocumentKind::Pdf,
        Some("md" | "markdown") => DocumentKind::Markdown,
        Some("txt" | "text") => DocumentKind::Text,
        _ => return Err(Rejection::UnsupportedType),
    };
    let content_fits = match kind {
        // The header may follow up to 1 KiB of junk (PDF 1.7, §7.5.2, implementation note).
        DocumentKind::Pdf => bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-"),
        DocumentKind::Markdown | DocumentKind::Text => !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok(),
    };
    if content_fits {
        Ok(kind)
    } else {
        Err(Rejection::UnsupportedType)
    }
}

/// Checks an upload and reads its text: every refusal before any page is extracted, except those only the text
/// can tell (no text at all). CPU-bound: run it on a blocking thread.
pub fn open(name: &str, bytes: &[u8], limits: &UploadLimits) -> Result<SourceDocument, Rejection> {
    let name = check_file_name(name)?;
    if bytes.is_empty() {
        return Err(Rejection::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(Rejection::TooLarge {
            bytes: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let kind = kind_of(name, bytes)?;
    if kind == DocumentKind::Pdf {
        let pages = layout::page_count(bytes).map_err(|error| match error {
            layout::OpenError::Encrypted => Rejection::Encrypted,
            layout::OpenError::Unreadable(_) => Rejection::Unreadable,
        })?;
        if pages > limits.max_pages {
            return Err(Rejection::TooManyPages {
                pages,
                max: limits.max_pages,
            });
        }
    }
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    from_bytes(stem, kind, bytes).map_err(|error| {
        if error.to_string().contains("no text found") {
            Rejection::NoText
        } else {
            Rejection::Unreadable
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_with_paths_or_control_characters_are_refused() {
        for good in ["plan.pdf", "Evidence of Coverage 2025.pdf", "notes.md", "ñandú.txt"] {
            assert_eq!(check_file_name(good), Ok(good));
        }
        let long = format!("{}.pdf", "a".repeat(MAX_FILE_NAME_BYTES));
        for bad in [
            "",
            ".",
            "..",
            "../etc/passwd",
            "a/b.pdf",
            "a\\b.pdf",
            "plan\n.pdf",
            "plan\u{0}.pdf",
            "\u{1b}[31m.txt",
            long.as_str(),
        ] {
            assert_eq!(check_file_name(bad), Err(Rejection::BadFileName), "{bad:?}");
        }
    }

    #[test]
    fn the_kind_comes_from_the_name_and_the_bytes_must_agree() {
        assert_eq!(kind_of("a.PDF", b"%PDF-1.7\n..."), Ok(DocumentKind::Pdf));
        assert_eq!(kind_of("a.md", b"# Plan\n"), Ok(DocumentKind::Markdown));
        assert_eq!(kind_of("a.txt", "copago $20".as_bytes()), Ok(DocumentKind::Text));
        assert_eq!(kind_of("a.exe", b"MZ"), Err(Rejection::UnsupportedType));
        assert_eq!(kind_of("noextension", b"text"), Err(Rejection::UnsupportedType));
        assert_eq!(
            kind_of("a.pdf", b"<html>not a pdf</html>"),
            Err(Rejection::UnsupportedType)
        );
        assert_eq!(
            kind_of("a.txt", b"MZ\x90\x00\x03"),
            Err(Rejection::UnsupportedType),
            "binary"
        );
        assert_eq!(
            kind_of("a.md", &[0xff, 0xfe, 0x41]),
            Err(Rejection::UnsupportedType),
            "not UTF-8"
        );
    }

    #[test]
    fn empty_and_oversized_files_are_refused_before_reading() {
        let limits = UploadLimits {
            max_bytes: 10,
            ..UploadLimits::default()
        };
        assert_eq!(open("a.txt", b"", &limits).unwrap_err(), Rejection::Empty);
        assert_eq!(
            open("a.txt", b"0123456789x", &limits).unwrap_err(),
            Rejection::TooLarge { bytes: 11, max: 10 }
        );
        assert!(open("a.txt", b"copay $20", &limits).is_ok());
        assert_eq!(open("a.txt", b"   \n\t ", &limits).unwrap_err(), Rejection::NoText);
        assert_eq!(open("a/b.txt", b"copay", &limits).unwrap_err(), Rejection::BadFileName);
    }

    #[test]
    fn every_reason_is_a_sentence_a_member_can_act_on() {
        for rejection in [
            Rejection::BadFileName,
            Rejection::UnsupportedType,
            Rejection::Empty,
            Rejection::TooLarge {
                bytes: 30 << 20,
                max: 25 << 20,
            },
            Rejection::TooManyPages { pages: 900, max: 600 },
            Rejection::Encrypted,
            Rejection::NoText,
            Rejection::Unreadable,
            Rejection::TooSlow,
            Rejection::Exhausting,
        ] {
            let reason = rejection.reason();
            assert!(reason.len() > 15 && !reason.contains("Error"), "{reason}");
        }
        assert!(
            Rejection::TooLarge {
                bytes: 30 << 20,
                max: 25 << 20
            }
            .reason()
            .contains("30.0 MB")
        );
        assert!(Rejection::NoText.reason().contains("scanned"));
    }
}
