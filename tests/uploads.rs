//! Every kind of bad upload is refused with a reason a member can read, before anything of it is stored; a good
//! one of each kind is read. PDFs are built in memory (`navigator_tests::pdf`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use navigator_retrieval::document::DocumentKind;
use navigator_retrieval::document::upload::{Rejection, UploadLimits, open};
use navigator_tests::pdf;

fn limits() -> UploadLimits {
    UploadLimits::default()
}

#[test]
fn a_pdf_with_text_is_read_page_by_page() {
    let bytes = pdf::with_pages(&["Ambulance one-way trip $250 copayment", "Hearing aids $550 per aid"]);
    let document = open("my plan.pdf", &bytes, &limits()).unwrap();
    assert_eq!(document.kind, DocumentKind::Pdf);
    assert_eq!(document.pages.len(), 2);
    assert!(document.pages[0].text.contains("$250"), "{:?}", document.pages);
    assert!(document.pages[1].text.contains("Hearing aids"));
}

#[test]
fn a_scanned_pdf_says_it_has_no_text() {
    let bytes = pdf::with_pages(&["", "", ""]);
    let rejection = open("scan.pdf", &bytes, &limits()).unwrap_err();
    assert_eq!(rejection, Rejection::NoText);
    assert!(rejection.reason().contains("scanned"));
}

#[test]
fn a_password_protected_pdf_is_refused_as_such() {
    let bytes = pdf::password_protected(&["Secret copay $5"]);
    let rejection = open("locked.pdf", &bytes, &limits()).unwrap_err();
    assert_eq!(rejection, Rejection::Encrypted);
    assert!(rejection.reason().contains("password"));
}

#[test]
fn a_pdf_over_the_page_cap_is_refused_before_its_text_is_read() {
    let bytes = pdf::with_pages(&["page"; 5]);
    let limits = UploadLimits {
        max_pages: 4,
        ..limits()
    };
    assert_eq!(
        open("long.pdf", &bytes, &limits).unwrap_err(),
        Rejection::TooManyPages { pages: 5, max: 4 }
    );
}

#[test]
fn a_file_over_the_size_cap_is_refused() {
    let bytes = pdf::with_pages(&["Ambulance $250"]);
    let limits = UploadLimits {
        max_bytes: bytes.len() - 1,
        ..limits()
    };
    assert!(matches!(
        open("big.pdf", &bytes, &limits).unwrap_err(),
        Rejection::TooLarge { .. }
    ));
}

#[test]
fn zero_bytes_other_types_and_lying_names_are_refused() {
    assert_eq!(open("empty.pdf", b"", &limits()).unwrap_err(), Rejection::Empty);
    assert_eq!(
        open("tool.exe", b"MZ\x90\x00", &limits()).unwrap_err(),
        Rejection::UnsupportedType
    );
    assert_eq!(
        open("photo.jpg", b"\xff\xd8\xff\xe0", &limits()).unwrap_err(),
        Rejection::UnsupportedType
    );
    assert_eq!(
        open("fake.pdf", b"<html>not a pdf</html>", &limits()).unwrap_err(),
        Rejection::UnsupportedType
    );
    // The header is there, the rest is not a PDF.
    assert_eq!(
        open("broken.pdf", b"%PDF-1.7\n garbage that is no PDF body", &limits()).unwrap_err(),
        Rejection::Unreadable
    );
    let pdf_named_text = pdf::with_pages(&["x"]);
    assert_eq!(
        open("notes.txt", &pdf_named_text, &limits()).unwrap_err(),
        Rejection::UnsupportedType
    );
}

#[test]
fn file_names_with_paths_or_control_characters_are_refused() {
    for name in [
        "../../etc/passwd.txt",
        "members/other/x.txt",
        "C:\\plan.txt",
        "plan\r\n.txt",
        "\u{7}.md",
    ] {
        assert_eq!(
            open(name, b"copay $20", &limits()).unwrap_err(),
            Rejection::BadFileName,
            "{name:?}"
        );
    }
}

#[test]
fn markdown_and_text_are_read_with_form_feeds_as_page_breaks() {
    let document = open(
        "notes.md",
        "# Benefits\nAmbulance $250\u{c}Hearing $550".as_bytes(),
        &limits(),
    )
    .unwrap();
    assert_eq!(document.kind, DocumentKind::Markdown);
    assert_eq!(document.pages.len(), 2);
}
