//! Small PDFs built in memory for upload tests: pages of text, pages with no text layer (a scan), and a
//! password-protected file.

use pdf_extract::{Dictionary, Document, Object, Stream, StringFormat};

/// A PDF whose pages hold these texts, in Helvetica. An empty text makes a page with no text layer.
pub fn with_pages(texts: &[&str]) -> Vec<u8> {
    save(build(texts))
}

/// A PDF of `texts` whose trailer names a standard security handler the empty password does not open.
pub fn password_protected(texts: &[&str]) -> Vec<u8> {
    let mut document = build(texts);
    let mut encrypt = Dictionary::new();
    encrypt.set("Filter", Object::Name(b"Standard".to_vec()));
    encrypt.set("V", 1);
    encrypt.set("R", 2);
    encrypt.set("O", Object::String(vec![0x5a; 32], StringFormat::Hexadecimal));
    encrypt.set("U", Object::String(vec![0xa5; 32], StringFormat::Hexadecimal));
    encrypt.set("P", -4);
    let id = document.add_object(encrypt);
    document.trailer.set("Encrypt", Object::Reference(id));
    document.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(vec![1; 16], StringFormat::Hexadecimal),
            Object::String(vec![1; 16], StringFormat::Hexadecimal),
        ]),
    );
    save(document)
}

fn build(texts: &[&str]) -> Document {
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Subtype", Object::Name(b"Type1".to_vec()));
    font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
    font.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
    let font_id = document.add_object(font);
    let mut fonts = Dictionary::new();
    fonts.set("F1", Object::Reference(font_id));
    let mut resources = Dictionary::new();
    resources.set("Font", Object::Dictionary(fonts));
    let resources_id = document.add_object(resources);

    let mut kids = Vec::new();
    for text in texts {
        let content = if text.is_empty() {
            // A scan: a filled rectangle where the image would be, and no text operators.
            b"0.5 g 72 72 468 648 re f".to_vec()
        } else {
            let escaped = text.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
            format!("BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET").into_bytes()
        };
        let content_id = document.add_object(Stream::new(Dictionary::new(), content));
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference(pages_id));
        page.set("Contents", Object::Reference(content_id));
        page.set("Resources", Object::Reference(resources_id));
        page.set(
            "MediaBox",
            Object::Array(vec![0.into(), 0.into(), 612.into(), 792.into()]),
        );
        kids.push(Object::Reference(document.add_object(page)));
    }
    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Count", kids.len() as i64);
    pages.set("Kids", Object::Array(kids));
    document.objects.insert(pages_id, Object::Dictionary(pages));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let catalog_id = document.add_object(catalog);
    document.trailer.set("Root", Object::Reference(catalog_id));
    document
}

fn save(mut document: Document) -> Vec<u8> {
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).expect("an in-memory PDF saves");
    bytes
}
