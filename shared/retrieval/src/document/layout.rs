//! PDF text by position: every glyph with where it sits, every ruled line of the page, and from them the page's text
//! in reading order, with two-column tables read row by row.
//!
//! Content-stream order (what `pdf-extract`'s plain-text output follows) keeps a benefits chart's columns apart: a
//! row's service, its long description, and only then what the member pays, 200 words later. A chunk boundary
//! between them loses the answer. Here a page whose lines fall into two columns under horizontal rules spanning both
//! (the Medical Benefits Chart of every Medicare Evidence of Coverage is such a table) is read band by band between
//! the rules: the row's first line (the service), then the right column (what you pay), then the rest of the left
//! column. Every other page keeps `pdf-extract`'s content-stream order, which reads side-by-side text boxes whole.

use pdf_extract::{ColorSpace, MediaBox, OutputDev, OutputError, Path, PathOp, Transform};

/// One glyph, in page coordinates with the origin at the top left.
#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    y: f64,
    end: f64,
    size: f64,
    text: String,
}

/// A horizontal rule: a stroked line or a thin filled rectangle.
#[derive(Debug, Clone, Copy)]
struct Rule {
    y: f64,
    x0: f64,
    x1: f64,
}

#[derive(Debug, Default)]
struct RawPage {
    height: f64,
    glyphs: Vec<Glyph>,
    rules: Vec<Rule>,
}

/// Collects glyphs and rules page by page.
#[derive(Default)]
struct Collector {
    pages: Vec<RawPage>,
}

impl Collector {
    fn page(&mut self) -> Option<&mut RawPage> {
        self.pages.last_mut()
    }

    fn add_rules(&mut self, ctm: &Transform, path: &Path) {
        let Some(page) = self.page() else { return };
        let height = page.height;
        let point = |x: f64, y: f64| {
            let px = x * ctm.m11 + y * ctm.m21 + ctm.m31;
            let py = x * ctm.m12 + y * ctm.m22 + ctm.m32;
            (px, height - py)
        };
        let mut last = None;
        for op in &path.ops {
            match *op {
                PathOp::MoveTo(x, y) => last = Some(point(x, y)),
                PathOp::LineTo(x, y) => {
                    let to = point(x, y);
                    if let Some(from) = last
                        && (from.1 - to.1).abs() < 1.0
                        && (from.0 - to.0).abs() > 20.0
                    {
                        page.rules.push(Rule {
                            y: (from.1 + to.1) / 2.0,
                            x0: from.0.min(to.0),
                            x1: from.0.max(to.0),
                        });
                    }
                    last = Some(to);
                }
                PathOp::Rect(x, y, w, h) => {
                    let (a, b) = (point(x, y), point(x + w, y + h));
                    let thin = (a.1 - b.1).abs() < 3.0;
                    if thin && (a.0 - b.0).abs() > 20.0 {
                        page.rules.push(Rule {
                            y: (a.1 + b.1) / 2.0,
                            x0: a.0.min(b.0),
                            x1: a.0.max(b.0),
                        });
                    }
                }
                PathOp::CurveTo(_, _, _, _, x, y) => last = Some(point(x, y)),
                PathOp::Close => {}
            }
        }
    }
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.pages.push(RawPage {
            height: media_box.ury - media_box.lly,
            ..RawPage::default()
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        let Some(page) = self.page() else { return Ok(()) };
        let scale_x = (trm.m11 * trm.m11 + trm.m12 * trm.m12).sqrt();
        let scale_y = (trm.m21 * trm.m21 + trm.m22 * trm.m22).sqrt();
        let size = (font_size * scale_x * font_size * scale_y).sqrt();
        let x = trm.m31;
        let y = page.height - trm.m32;
        page.glyphs.push(Glyph {
            x,
            y,
            end: x + width * size,
            size,
            text: text.to_string(),
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn stroke(&mut self, ctm: &Transform, _: &ColorSpace, _: &[f64], path: &Path) -> Result<(), OutputError> {
        self.add_rules(ctm, path);
        Ok(())
    }

    fn fill(&mut self, ctm: &Transform, _: &ColorSpace, _: &[f64], path: &Path) -> Result<(), OutputError> {
        self.add_rules(ctm, path);
        Ok(())
    }
}

/// A run of glyphs on one line with no wide gap inside.
#[derive(Debug, Clone)]
struct Segment {
    x1: f64,
    y: f64,
    size: f64,
    text: String,
}

/// Glyphs grouped into rows, top to bottom, each row left to right.
fn glyph_rows(page: &RawPage) -> Vec<Vec<&Glyph>> {
    let mut glyphs: Vec<&Glyph> = page.glyphs.iter().filter(|g| !g.text.trim().is_empty()).collect();
    glyphs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    let mut rows: Vec<Vec<&Glyph>> = Vec::new();
    for glyph in glyphs {
        match rows.last_mut() {
            Some(row) if (row[0].y - glyph.y).abs() <= row[0].size.max(glyph.size) * 0.35 => row.push(glyph),
            _ => rows.push(vec![glyph]),
        }
    }
    for row in &mut rows {
        row.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    rows
}

/// A row's glyphs as segments: a gap wider than 1.6 glyph heights starts a new one.
fn segments(row: &[&Glyph]) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    for glyph in row {
        let size = glyph.size.max(1.0);
        match segments.last_mut() {
            Some(segment) if glyph.x - segment.x1 < size * 1.6 => {
                if glyph.x - segment.x1 > size * 0.12 {
                    segment.text.push(' ');
                }
                segment.text.push_str(&glyph.text);
                segment.x1 = segment.x1.max(glyph.end);
            }
            _ => segments.push(Segment {
                x1: glyph.end,
                y: glyph.y,
                size,
                text: glyph.text.clone(),
            }),
        }
    }
    segments
}

/// Rules at one height, merged: a table draws each cell's border apart, so a row's rule comes in pieces.
fn rule_rows(rules: &[Rule]) -> Vec<Rule> {
    let mut sorted = rules.to_vec();
    sorted.sort_by(|a, b| a.y.total_cmp(&b.y));
    let mut merged: Vec<Rule> = Vec::new();
    for rule in sorted {
        match merged.last_mut() {
            Some(last) if (last.y - rule.y).abs() < 2.0 => {
                last.x0 = last.x0.min(rule.x0);
                last.x1 = last.x1.max(rule.x1);
            }
            _ => merged.push(rule),
        }
    }
    merged
}

/// Where a ruled two-column table's right column starts: where one cell's rule ends and the next begins, at the same
/// height, on at least two rows of rules.
fn cell_boundary(rules: &[Rule]) -> Option<f64> {
    let mut candidates: Vec<f64> = Vec::new();
    for a in rules {
        for b in rules {
            if (a.y - b.y).abs() < 2.0 && (a.x1 - b.x0).abs() < 4.0 && b.x0 > a.x0 + 40.0 && b.x1 > b.x0 + 40.0 {
                candidates.push(b.x0);
            }
        }
    }
    candidates.sort_by(f64::total_cmp);
    let x = *candidates.get(candidates.len() / 2)?;
    let seen = candidates.iter().filter(|c| (**c - x).abs() < 4.0).count();
    // Two columns only: a table of more (a drug-tier grid) is read in content-stream order instead.
    let two_columns = candidates.iter().all(|c| (*c - x).abs() < 4.0);
    (seen >= 2 && two_columns).then_some(x)
}

/// A row's text from its glyphs, a space where glyphs stand apart.
fn join(glyphs: &[&Glyph]) -> String {
    let mut text = String::new();
    let mut last_end: Option<f64> = None;
    for glyph in glyphs {
        if let Some(end) = last_end
            && glyph.x - end > glyph.size.max(1.0) * 0.12
        {
            text.push(' ');
        }
        text.push_str(&glyph.text);
        last_end = Some(glyph.end);
    }
    text
}

/// The page's text when it holds a ruled two-column table: the table row by row (service, then what you pay, then
/// the rest of the row), lines above and below it top to bottom. `None` for any other page: content-stream order
/// reads side-by-side text boxes better than lines cut across them.
fn table_page_text(page: &RawPage) -> Option<String> {
    let rows = glyph_rows(page);
    let split = cell_boundary(&page.rules)?;
    // Rules spanning both columns mark the table's rows.
    let cuts: Vec<f64> = rule_rows(&page.rules)
        .iter()
        .filter(|r| r.x0 < split - 20.0 && r.x1 > split + 20.0)
        .map(|r| r.y)
        .collect();
    if cuts.len() < 2 {
        return None;
    }
    let (first_cut, last_cut) = (cuts[0], cuts[cuts.len() - 1]);
    let band_of = |y: f64| cuts.iter().filter(|c| **c < y).count();
    let mut above: Vec<Vec<Segment>> = Vec::new();
    let mut below: Vec<Vec<Segment>> = Vec::new();
    let mut bands: Vec<(Vec<String>, Vec<String>)> = vec![(Vec::new(), Vec::new()); cuts.len() + 1];
    for row in &rows {
        let y = row[0].y;
        if y < first_cut {
            above.push(segments(row));
            continue;
        }
        if y > last_cut {
            below.push(segments(row));
            continue;
        }
        let (left, right): (Vec<&Glyph>, Vec<&Glyph>) = row.iter().partition(|g| g.x < split);
        let band = &mut bands[band_of(y)];
        if !left.is_empty() {
            band.0.push(join(&left));
        }
        if !right.is_empty() {
            band.1.push(join(&right));
        }
    }
    let mut out: Vec<String> = vec![plain(&above)];
    for (left, right) in bands {
        let mut left = left.into_iter();
        let mut row: Vec<String> = left.next().into_iter().collect();
        row.extend(right);
        row.extend(left);
        out.push(row.join("\n"));
    }
    // A page that goes on in prose under its table reads better in content-stream order.
    if below.len() > 3 {
        return None;
    }
    out.push(plain(&below));
    out.retain(|block| !block.trim().is_empty());
    Some(out.join("\n\n"))
}

/// Lines top to bottom; a vertical gap of more than 1.8 line heights starts a new paragraph.
fn plain(lines: &[Vec<Segment>]) -> String {
    let mut out = String::new();
    let mut last: Option<&Segment> = None;
    for line in lines {
        let Some(first) = line.first() else { continue };
        if let Some(previous) = last {
            let gap = first.y - previous.y;
            out.push_str(if gap > previous.size.max(first.size) * 1.8 {
                "\n\n"
            } else {
                "\n"
            });
        }
        let text: Vec<&str> = line.iter().map(|s| s.text.as_str()).collect();
        out.push_str(&text.join("   "));
        last = Some(first);
    }
    out
}

/// Each page's text: a page holding a ruled two-column table read by position, row by row; any other page in
/// `pdf-extract`'s content-stream order.
/// Why a PDF could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// It needs a password (one that opens with the empty password is read as usual).
    Encrypted,
    Unreadable(String),
}

/// How many pages a PDF has, read from its page tree without extracting any text.
pub fn page_count(bytes: &[u8]) -> Result<usize, OpenError> {
    match pdf_extract::Document::load_mem(bytes) {
        // The empty password did not open it: the loader leaves it encrypted rather than failing.
        Ok(document) if document.is_encrypted() => Err(OpenError::Encrypted),
        Ok(document) => Ok(document.get_pages().len()),
        Err(pdf_extract::Error::InvalidPassword | pdf_extract::Error::Decryption(_)) => Err(OpenError::Encrypted),
        Err(error) => Err(OpenError::Unreadable(error.to_string())),
    }
}

pub fn pages(bytes: &[u8]) -> Result<Vec<String>, String> {
    let document = pdf_extract::Document::load_mem(bytes).map_err(|e| e.to_string())?;
    let mut collector = Collector::default();
    pdf_extract::output_doc(&document, &mut collector).map_err(|e| e.to_string())?;
    let streamed = pdf_extract::extract_text_from_mem_by_pages(bytes).map_err(|e| e.to_string())?;
    if streamed.len() != collector.pages.len() {
        return Ok(streamed);
    }
    Ok(collector
        .pages
        .iter()
        .zip(streamed)
        .map(|(page, text)| table_page_text(page).unwrap_or(text))
        .collect())
}
