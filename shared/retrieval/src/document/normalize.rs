//! Text clean-up shared by extraction and evaluation: typographic quotes, ligatures and odd spaces become plain.

/// Normalises characters PDF extraction commonly yields, keeping line structure.
pub fn normalize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201b}' | '\u{2032}' => out.push('\''),
            '\u{201c}' | '\u{201d}' | '\u{201f}' | '\u{2033}' => out.push('"'),
            '\u{2013}' | '\u{2014}' | '\u{2212}' => out.push('-'),
            '\u{fb01}' => out.push_str("fi"),
            '\u{fb02}' => out.push_str("fl"),
            '\u{fb00}' => out.push_str("ff"),
            '\u{fb03}' => out.push_str("ffi"),
            '\u{fb04}' => out.push_str("ffl"),
            '\u{a0}' | '\u{2002}'..='\u{200a}' | '\u{202f}' | '\t' => out.push(' '),
            '\u{200b}' | '\u{feff}' | '\u{ad}' | '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typographic_characters_become_plain() {
        assert_eq!(
            normalize_text("doctor\u{2019}s \u{fb01}le\u{a0}\u{2013} \u{201c}x\u{201d}"),
            "doctor's file - \"x\""
        );
    }
}
