//! Every kind of bad upload is refused with a reason a member can read, before anything of it is stored; a good
//! one of each kind is read. PDFs are built in memory (`navigator_tests::pdf`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use navigator_retrieval::document::DocumentKind;
use navigator_retrieval::document::isolated::{self, ReaderProgram};
use navigator_retrieval::document::upload::{Rejection, UploadLimits, open};
use navigator_tests::{pdf, upload_reader};

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

/// Not a test: the entry point of the reader children the tests below start (this binary, run with `--exact` on
/// this name). Run without the reader's environment, it returns at once.
#[test]
fn upload_reader_entry() {
    isolated::serve_if_asked();
}

#[tokio::test]
async fn the_sample_plan_is_read_in_a_child_under_the_production_limits() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/sample/scan_classic_hmo.pdf");
    let bytes = std::fs::read(path).unwrap();
    let document = isolated::read(&upload_reader(), "scan_classic_hmo.pdf", &bytes, &limits())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(document.pages.len(), 232);
    assert!(document.title.contains("SCAN Classic"), "{}", document.title);
}

#[tokio::test]
async fn a_decompression_bomb_ends_its_own_reader_not_this_process() {
    let bytes = pdf::decompression_bomb(600 << 20);
    assert!(bytes.len() < 4 << 20, "small on disk: {} bytes", bytes.len());
    let limits = UploadLimits {
        memory_bytes: 256 << 20,
        ..limits()
    };
    let rejection = isolated::read(&upload_reader(), "bomb.pdf", &bytes, &limits)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(rejection, Rejection::Exhausting);
    // This process is fine, and the next file is read as usual.
    let good = pdf::with_pages(&["Ambulance $250"]);
    assert!(
        isolated::read(&upload_reader(), "good.pdf", &good, &limits)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn a_reader_that_overruns_its_time_is_killed_and_the_file_refused() {
    let sleeper = ReaderProgram {
        program: "sleep".into(),
        args: vec!["30".into()],
    };
    let limits = UploadLimits {
        extract_time: std::time::Duration::ZERO,
        ..limits()
    };
    let started = std::time::Instant::now();
    let rejection = isolated::read(&sleeper, "slow.txt", b"copay", &limits)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(rejection, Rejection::TooSlow);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn refusals_found_in_the_child_come_back_as_such() {
    let rejection = isolated::read(&upload_reader(), "scan.pdf", &pdf::with_pages(&["", ""]), &limits())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(rejection, Rejection::NoText);
}
