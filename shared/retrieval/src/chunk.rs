//! Structure-aware chunking: chapters and sections are hard boundaries, chunks stay under a word bound, and a chunk
//! split for size carries a little overlap. Running headers, footers and page numbers are dropped first, so they
//! neither pad chunks nor match every query.

use std::collections::HashMap;

use crate::document::Page;

/// Bounds on chunk size, in words.
#[derive(Debug, Clone, Copy)]
pub struct ChunkSizes {
    /// A chunk is closed before it would pass this.
    pub max_words: usize,
    /// Words of the previous chunk carried into the next when a section is split for size.
    pub overlap_words: usize,
}

impl Default for ChunkSizes {
    /// Measured on the dev questions over the sample plan (English hit@5): 120 words 0.85, 200 words 0.91,
    /// 300 words 0.85.
    fn default() -> Self {
        Self {
            max_words: 200,
            overlap_words: 40,
        }
    }
}

/// One chunk of a document, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub ord: u32,
    pub page_start: u32,
    pub page_end: u32,
    /// "Chapter 4 › Section 2.1 …": where in the document the chunk sits.
    pub section: String,
    pub text: String,
    pub words: u32,
}

impl Chunk {
    /// What gets embedded and indexed: the section heading gives a chunk its context.
    pub fn indexed_text(&self) -> String {
        format!("{}\n{}", self.section, self.text)
    }
}

#[derive(Debug)]
struct Block {
    page: u32,
    text: String,
    words: usize,
}

/// Splits pages into chunks.
pub fn chunk_pages(pages: &[Page], sizes: ChunkSizes) -> Vec<Chunk> {
    let boilerplate = boilerplate_lines(pages);
    let mut builder = Builder {
        sizes,
        chunks: Vec::new(),
        current: Vec::new(),
        chapter: String::new(),
        section: String::new(),
        caption: String::new(),
    };
    let mut after_bare_label = false;
    for page in pages {
        for block in blocks(page, &boilerplate) {
            match heading(&block.text) {
                Some(Heading::Chapter(title)) => {
                    builder.flush(false);
                    builder.caption.clear();
                    // A chapter's opening block often runs straight into its first section heading.
                    match title.find(" SECTION ").or_else(|| title.find(" Section ")) {
                        Some(at) => {
                            builder.chapter = title[..at].to_string();
                            builder.section = title[at + 1..].to_string();
                        }
                        None => {
                            builder.chapter = title;
                            builder.section.clear();
                        }
                    }
                }
                Some(Heading::Section(title)) => {
                    builder.flush(false);
                    builder.caption.clear();
                    builder.section = title;
                }
                None => {}
            }
            for (caption, piece) in at_table_captions(block) {
                match caption {
                    Some(caption) if caption != builder.caption => {
                        builder.flush(false);
                        builder.caption = caption;
                    }
                    Some(_) => {}
                    // A table's rows are blocks of their own, each opening with its label (or the value of a label
                    // that stood alone); the first block that does neither is past the table.
                    None if !builder.caption.is_empty()
                        && !continues_table(&piece, after_bare_label, &builder.caption) =>
                    {
                        builder.flush(false);
                        builder.caption.clear();
                    }
                    None => {}
                }
                after_bare_label = piece.text.lines().last().is_some_and(is_row_label);
                builder.push(piece);
            }
        }
    }
    builder.flush(false);
    builder.chunks
}

struct Builder {
    sizes: ChunkSizes,
    chunks: Vec<Chunk>,
    current: Vec<Block>,
    chapter: String,
    section: String,
    /// The caption of the table the chunk is in, if any ("Appeals for Part D Prescription Drugs - Contact
    /// Information"): a table split over chunks would otherwise leave its later rows without their subject.
    caption: String,
}

impl Builder {
    fn words(&self) -> usize {
        self.current.iter().map(|b| b.words).sum()
    }

    fn push(&mut self, block: Block) {
        if block.words > self.sizes.max_words {
            for piece in split_long_block(block, self.sizes.max_words) {
                self.push(piece);
            }
            return;
        }
        if !self.current.is_empty() && self.words() + block.words > self.sizes.max_words {
            self.flush(true);
            // The carried-over tail gives way to the new block rather than push the chunk past the bound.
            let room = self.sizes.max_words - block.words;
            if let Some(tail) = self.current.first_mut()
                && tail.words > room
            {
                let words: Vec<&str> = tail.text.split_whitespace().collect();
                tail.text = words[words.len() - room..].join(" ");
                tail.words = room;
            }
            self.current.retain(|b| b.words > 0);
        }
        self.current.push(block);
    }

    /// Closes the current chunk. With `overlap`, its tail starts the next one.
    fn flush(&mut self, overlap: bool) {
        if self.current.is_empty() {
            return;
        }
        let blocks = std::mem::take(&mut self.current);
        let text = blocks.iter().map(|b| b.text.as_str()).collect::<Vec<_>>().join("\n");
        let label = [&self.chapter, &self.section, &self.caption]
            .into_iter()
            .filter(|part| !part.is_empty())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" › ");
        self.chunks.push(Chunk {
            ord: self.chunks.len() as u32,
            page_start: blocks.first().map_or(1, |b| b.page),
            page_end: blocks.last().map_or(1, |b| b.page),
            section: label,
            words: blocks.iter().map(|b| b.words).sum::<usize>() as u32,
            text,
        });
        if overlap && self.sizes.overlap_words > 0 {
            let last = &blocks[blocks.len() - 1];
            let words: Vec<&str> = last.text.split_whitespace().collect();
            let keep = words.len().min(self.sizes.overlap_words);
            if keep > 0 && keep < self.sizes.max_words {
                let text = words[words.len() - keep..].join(" ");
                self.current.push(Block {
                    page: last.page,
                    text,
                    words: keep,
                });
            }
        }
    }
}

enum Heading {
    Chapter(String),
    Section(String),
}

/// Recognises "CHAPTER 4: …" / "Chapter 4. …" and "SECTION 2 …" / "Section 2.1 …" headings, and Markdown `#`s.
fn heading(text: &str) -> Option<Heading> {
    let first_line = text.lines().next()?.trim();
    let words = text.split_whitespace().count();
    if words > 30 {
        return None;
    }
    if let Some(rest) = first_line.strip_prefix("# ") {
        return Some(Heading::Chapter(rest.trim().to_string()));
    }
    if let Some(rest) = first_line
        .strip_prefix("## ")
        .or_else(|| first_line.strip_prefix("### "))
    {
        return Some(Heading::Section(rest.trim().to_string()));
    }
    let mut tokens = first_line.split_whitespace();
    let keyword = tokens.next()?;
    let number = tokens.next()?.trim_end_matches([':', '.']);
    let numbered = !number.is_empty() && number.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !numbered {
        return None;
    }
    let title = squeeze(text);
    match keyword {
        "CHAPTER" | "Chapter" => Some(Heading::Chapter(title)),
        "SECTION" | "Section" => Some(Heading::Section(title)),
        _ => None,
    }
}

/// Splits a block where a table's caption starts: a header line "Method" (the column over the ways to reach
/// someone: CALL, TTY, WRITE…) and the caption under it, up to the first row label in capitals. Each piece comes
/// with the caption it opens, if it opens one. A table continued on the next page repeats its header as one line
/// ("Method Medicare - Contact Information"); that is no new caption and is left in the text.
fn at_table_captions(block: Block) -> Vec<(Option<String>, Block)> {
    const MAX_CAPTION_LINES: usize = 3;
    const MAX_CAPTION_WORDS: usize = 24;
    let lines: Vec<&str> = block.text.lines().collect();
    let mut starts: Vec<(usize, String)> = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if *line != "Method" {
            continue;
        }
        let caption: Vec<&str> = lines[at + 1..]
            .iter()
            .take(MAX_CAPTION_LINES)
            .take_while(|line| !is_row_label(line) && !line.starts_with("Method "))
            .copied()
            .collect();
        let caption = caption.join(" ");
        let words = caption.split_whitespace().count();
        if words > 0 && words <= MAX_CAPTION_WORDS {
            starts.push((at, caption));
        }
    }
    if starts.is_empty() {
        return vec![(None, block)];
    }
    let piece = |from: usize, to: usize| {
        let text = lines[from..to].join("\n");
        Block {
            page: block.page,
            words: text.split_whitespace().count(),
            text,
        }
    };
    let mut pieces = Vec::with_capacity(starts.len() + 1);
    if starts[0].0 > 0 {
        pieces.push((None, piece(0, starts[0].0)));
    }
    for (index, (at, caption)) in starts.iter().enumerate() {
        let end = starts.get(index + 1).map_or(lines.len(), |next| next.0);
        pieces.push((Some(caption.clone()), piece(*at, end)));
    }
    pieces
}

/// Whether `block` is still part of the table captioned `caption`: a row (opening with its label), the value of a
/// label that stood alone on the block before, or the table's header repeated at the top of a page.
fn continues_table(block: &Block, after_bare_label: bool, caption: &str) -> bool {
    let first = block.text.lines().next().unwrap_or_default();
    // Another table's header is no repetition of this one's.
    let repeated_header = first.strip_prefix("Method ").is_some_and(|rest| rest.trim() == caption);
    after_bare_label || is_row_label(first) || repeated_header
}

/// A table row's label: one or two words in capitals ("CALL", "TTY", "WEBSITE").
fn is_row_label(line: &str) -> bool {
    let words = line.split_whitespace().count();
    (1..=2).contains(&words)
        && line.chars().any(|c| c.is_ascii_uppercase())
        && line.chars().all(|c| c.is_ascii_uppercase() || c.is_whitespace())
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lines that repeat at the top or bottom of many pages: running headers, footers, chart column headings. A
/// chapter's own running header ("Chapter 3 Using the plan…") repeats only within the chapter, so it needs fewer
/// pages to count. Keys have page numbers stripped ("43 2025 Evidence of Coverage…").
fn boilerplate_lines(pages: &[Page]) -> HashMap<String, usize> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for page in pages {
        let lines: Vec<String> = page.text.lines().map(edge_key).filter(|l| !l.is_empty()).collect();
        let edges = lines.iter().take(4).chain(lines.iter().rev().take(5));
        let mut seen = std::collections::HashSet::new();
        for line in edges {
            if seen.insert(line.clone()) {
                *counts.entry(line.clone()).or_default() += 1;
            }
        }
    }
    let threshold = (pages.len() / 10).max(3);
    counts.retain(|line, count| *count >= threshold || (*count >= 3 && line.starts_with("Chapter ")));
    counts
}

/// A line as boilerplate detection sees it: squeezed, with a page number at either end removed.
fn edge_key(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let is_page_number = |w: &&str| w.len() <= 3 && w.chars().all(|c| c.is_ascii_digit());
    let start = usize::from(words.len() > 1 && words.first().is_some_and(is_page_number));
    let end = words.len() - usize::from(words.len() > start + 1 && words.last().is_some_and(is_page_number));
    words[start..end].join(" ")
}

/// A page's blank-line-separated blocks, minus boilerplate and bare page numbers.
fn blocks(page: &Page, boilerplate: &HashMap<String, usize>) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let close = |lines: &mut Vec<String>, blocks: &mut Vec<Block>| {
        if !lines.is_empty() {
            let text = lines.join("\n");
            let words = text.split_whitespace().count();
            blocks.push(Block {
                page: page.number,
                text,
                words,
            });
            lines.clear();
        }
    };
    for raw in page.text.lines() {
        let line = squeeze(raw);
        if line.is_empty() {
            close(&mut lines, &mut blocks);
            continue;
        }
        let page_number = line.chars().all(|c| c.is_ascii_digit()) && line.len() <= 4;
        if page_number || boilerplate.contains_key(&edge_key(&line)) {
            continue;
        }
        lines.push(line);
    }
    close(&mut lines, &mut blocks);
    blocks
}

/// Splits a block longer than `max_words` at sentence ends where it can, at word bounds where it must.
fn split_long_block(block: Block, max_words: usize) -> Vec<Block> {
    let words: Vec<&str> = block.text.split_whitespace().collect();
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < words.len() {
        let hard_end = (start + max_words).min(words.len());
        let end = if hard_end == words.len() {
            hard_end
        } else {
            (start + max_words / 2..hard_end)
                .rev()
                .find(|&i| words[i - 1].ends_with(['.', ';', ':']))
                .unwrap_or(hard_end)
        };
        pieces.push(Block {
            page: block.page,
            text: words[start..end].join(" "),
            words: end - start,
        });
        start = end;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(number: u32, text: &str) -> Page {
        Page {
            number,
            text: text.to_string(),
        }
    }

    #[test]
    fn chapters_and_sections_are_hard_boundaries_and_label_chunks() {
        let pages = vec![
            page(
                1,
                "CHAPTER 4:\nMedical Benefits Chart\n\nIntro text here.\n\nSection 2.1 Your medical benefits\n\nAmbulance services\n$180 copayment for each one-way trip.",
            ),
            page(
                2,
                "SECTION 3 What services are not covered\n\nCosmetic surgery is not covered.",
            ),
        ];
        let chunks = chunk_pages(&pages, ChunkSizes::default());
        let labels: Vec<&str> = chunks.iter().map(|c| c.section.as_str()).collect();
        assert_eq!(
            labels,
            vec![
                "CHAPTER 4: Medical Benefits Chart",
                "CHAPTER 4: Medical Benefits Chart › Section 2.1 Your medical benefits",
                "CHAPTER 4: Medical Benefits Chart › SECTION 3 What services are not covered",
            ]
        );
        assert!(chunks[1].text.contains("$180 copayment for each one-way trip."));
        assert_eq!((chunks[2].page_start, chunks[2].page_end), (2, 2));
        assert_eq!(chunks.iter().map(|c| c.ord).collect::<Vec<_>>(), vec![0, 1, 2]);
    }

    #[test]
    fn a_table_caption_labels_the_table_s_rows_and_nothing_after_it() {
        // As the plan's contact tables come out of the PDF: the header and caption, then each row a block of its own.
        let rows = (0..12)
            .map(|i| format!("CALL\n1-800-000-00{i:02}\nCalls to this number are free and answered all day."))
            .collect::<Vec<_>>()
            .join("\n\n");
        let text = format!(
            "SECTION 1 How to reach us\n\nHow to contact us about your drugs.\n\nMethod\nCoverage Decisions for Part D \
             Prescription Drugs - Contact\nInformation\n\n{rows}\n\nWEBSITE\n\nwww.example.com\n\nThe payment plan \
             spreads your drug costs over the year.\n\nMethod\nAppeals For Medical Care - Contact Information\n\n\
             WRITE\nP.O. Box 22644"
        );
        let sizes = ChunkSizes {
            max_words: 60,
            overlap_words: 10,
        };
        let chunks = chunk_pages(&[page(1, &text)], sizes);
        let section = "SECTION 1 How to reach us";
        let drugs = format!("{section} › Coverage Decisions for Part D Prescription Drugs - Contact Information");
        // The prose before the table keeps the section's label; every row carries the caption, even in a chunk split
        // off for size, and so does a value whose label stood alone; the prose after the table does not; the next
        // table starts a chunk of its own.
        assert_eq!(chunks[0].section, section);
        assert!(
            chunks[0].text.ends_with("How to contact us about your drugs."),
            "{:?}",
            chunks[0].text
        );
        let table: Vec<&Chunk> = chunks.iter().filter(|c| c.section == drugs).collect();
        assert!(table.len() >= 2, "{chunks:#?}");
        assert!(
            table[0].text.starts_with("Method\nCoverage Decisions"),
            "{:?}",
            table[0].text
        );
        assert!(table.iter().all(|c| c.text.contains("CALL")));
        assert!(
            table
                .last()
                .is_some_and(|c| c.text.ends_with("WEBSITE\nwww.example.com")),
            "{chunks:#?}"
        );
        let after = chunks
            .iter()
            .find(|c| c.text.contains("payment plan"))
            .expect("the prose after the table");
        assert_eq!(after.section, section);
        assert!(after.text.starts_with("The payment plan"), "{:?}", after.text);
        let last = chunks.last().expect("chunks");
        assert_eq!(
            last.section,
            format!("{section} › Appeals For Medical Care - Contact Information")
        );
        assert_eq!(
            last.text,
            "Method\nAppeals For Medical Care - Contact Information\nWRITE\nP.O. Box 22644"
        );
    }

    #[test]
    fn a_repeated_header_continues_its_table_and_another_table_s_header_ends_it() {
        let text = "Method\nAppeals - Contact Information\n\nCALL\n1-800-000-0000\n\nMethod Appeals - Contact \
                    Information\nTTY\n1-711\n\nMethod Complaints - Contact Information\nWRITE\nP.O. Box 1";
        let chunks = chunk_pages(&[page(1, text)], ChunkSizes::default());
        assert_eq!(chunks.len(), 2, "{chunks:#?}");
        assert_eq!(chunks[0].section, "Appeals - Contact Information");
        assert!(chunks[0].text.contains("1-711"));
        assert_eq!(chunks[1].section, "");
        assert!(chunks[1].text.starts_with("Method Complaints"));
    }

    #[test]
    fn a_method_line_without_a_caption_or_a_repeated_header_splits_nothing() {
        let text = "Method\nCALL\n1-800-000-0000\nMethod Medicare - Contact Information\nTTY\n711";
        let chunks = chunk_pages(&[page(1, text)], ChunkSizes::default());
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].section, "");
    }

    #[test]
    fn chunks_stay_under_the_bound_and_overlap_when_split() {
        let paragraph = |n: usize| (0..40).map(|i| format!("w{n}x{i}")).collect::<Vec<_>>().join(" ");
        let text = (0..6).map(paragraph).collect::<Vec<_>>().join("\n\n");
        let sizes = ChunkSizes {
            max_words: 100,
            overlap_words: 10,
        };
        let chunks = chunk_pages(&[page(1, &text)], sizes);
        assert!(chunks.len() >= 3);
        assert!(
            chunks.iter().all(|c| c.words as usize <= 100),
            "{:?}",
            chunks.iter().map(|c| c.words).collect::<Vec<_>>()
        );
        // The tail of one chunk opens the next.
        assert!(chunks[1].text.starts_with("w1x30"), "{}", &chunks[1].text[..20]);
    }

    #[test]
    fn running_headers_and_page_numbers_are_dropped() {
        let pages: Vec<Page> = (1..=12)
            .map(|n| {
                page(
                    n,
                    &format!("2025 Evidence of Coverage for SCAN Classic\n{n}\n\nBody text of page {n}."),
                )
            })
            .collect();
        let chunks = chunk_pages(&pages, ChunkSizes::default());
        let all: String = chunks.iter().map(|c| c.text.clone()).collect();
        assert!(!all.contains("Evidence of Coverage"));
        assert!(all.contains("Body text of page 12."));
        assert!(!all.lines().any(|l| l.trim() == "7"));
    }

    #[test]
    fn a_huge_paragraph_is_split_at_sentence_ends() {
        let sentence = "The plan covers this service when medically necessary.";
        let text = vec![sentence; 60].join(" ");
        let chunks = chunk_pages(
            &[page(1, &text)],
            ChunkSizes {
                max_words: 50,
                overlap_words: 0,
            },
        );
        assert!(chunks.iter().all(|c| c.words <= 50));
        assert!(chunks.iter().all(|c| c.text.ends_with('.')));
    }
}
