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

/// A one-page PDF whose content stream is small in the file and inflates to `inflated_bytes` zero bytes when read:
/// a decompression bomb. The zlib stream is written by hand (one fixed-Huffman block of a literal and repeated
/// 258-byte matches), so building it costs nothing near what reading it does.
pub fn decompression_bomb(inflated_bytes: usize) -> Vec<u8> {
    let mut document = build(&["x"]);
    let mut bits = BitWriter::default();
    bits.push(1, 1); // final block
    bits.push(1, 2); // fixed Huffman codes
    bits.push_code(0b0011_0000, 8); // literal 0 (codes 0-143 are 8 bits from 0x30)
    let matches = (inflated_bytes.saturating_sub(1)) / 258;
    for _ in 0..matches {
        bits.push_code(0b1100_0101, 8); // length code 285: 258 bytes (codes 280-287 are 8 bits from 0xc0)
        bits.push_code(0, 5); // distance code 0: distance 1
    }
    bits.push_code(0, 7); // end of block (code 256: seven zero bits)
    let length = 1 + matches * 258;
    let mut zlib = vec![0x78, 0x01];
    zlib.extend(bits.finish());
    // Adler-32 of `length` zero bytes: a stays 1, b adds a once per byte.
    let b = (length % 65_521) as u32;
    zlib.extend(((b << 16) | 1).to_be_bytes());
    let mut dictionary = Dictionary::new();
    dictionary.set("Filter", Object::Name(b"FlateDecode".to_vec()));
    let stream_id = document.add_object(Stream::new(dictionary, zlib).with_compression(false));
    let page_id = document.get_pages().values().next().copied().expect("one page");
    if let Ok(Object::Dictionary(page)) = document.get_object_mut(page_id) {
        page.set("Contents", Object::Reference(stream_id));
    }
    save(document)
}

/// Deflate's bit order: fields least significant bit first, Huffman codes most significant bit first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    current: u8,
    used: u8,
}

impl BitWriter {
    fn push(&mut self, value: u32, count: u8) {
        for i in 0..count {
            self.bit((value >> i) & 1 == 1);
        }
    }

    fn push_code(&mut self, code: u32, count: u8) {
        for i in (0..count).rev() {
            self.bit((code >> i) & 1 == 1);
        }
    }

    fn bit(&mut self, set: bool) {
        if set {
            self.current |= 1 << self.used;
        }
        self.used += 1;
        if self.used == 8 {
            self.bytes.push(self.current);
            self.current = 0;
            self.used = 0;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.bytes.push(self.current);
        }
        self.bytes
    }
}
