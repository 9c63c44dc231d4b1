//! Text as the printer shows it: each character made printable in the chosen encoding and its
//! width in columns. A GB18030 printer prints every double-byte character as a full-width glyph
//! (two columns) and ASCII in one; what it cannot print becomes `?`.

use super::layout::Encoding;

/// One character as printed: its bytes and its width in columns.
pub(crate) fn glyph(c: char, encoding: Encoding) -> (Vec<u8>, usize) {
    if c.is_ascii() {
        // Control characters never reach the printer: they would be commands.
        let b = if c.is_ascii_control() { b'?' } else { c as u8 };
        return (vec![b], 1);
    }
    match encoding {
        Encoding::Ascii => (vec![b'?'], 1),
        Encoding::Gb18030 => {
            let mut buf = [0u8; 4];
            let s = c.encode_utf8(&mut buf);
            let (bytes, _, errors) = encoding_rs::GB18030.encode(s);
            // Four-byte sequences (rare characters, most symbols outside GB2312/GBK) are not in
            // a thermal printer's font.
            if errors || bytes.len() != 2 {
                (vec![b'?'], 1)
            } else {
                (bytes.into_owned(), 2)
            }
        }
    }
}

/// The text as it will be printed (unprintable characters as `?`).
pub fn printable(s: &str, encoding: Encoding) -> String {
    s.chars()
        .map(|c| {
            let (b, w) = glyph(c, encoding);
            if w == 1 && b == [b'?'] && c != '?' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// Columns `s` takes once printed.
pub fn width(s: &str, encoding: Encoding) -> usize {
    s.chars().map(|c| glyph(c, encoding).1).sum()
}

/// Split `s` into lines of at most `cols` columns, breaking at spaces where it can and inside
/// a word (or between CJK characters) where it must.
pub fn wrap(s: &str, cols: usize, encoding: Encoding) -> Vec<String> {
    let cols = cols.max(2);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in split_keeping_spaces(s) {
        let w = width(&word, encoding);
        if used + w <= cols {
            line.push_str(&word);
            used += w;
            continue;
        }
        if word.trim().is_empty() {
            // A space at the break is dropped.
            lines.push(std::mem::take(&mut line));
            used = 0;
            continue;
        }
        if w <= cols && used > 0 {
            lines.push(std::mem::take(&mut line).trim_end().to_string());
            line.push_str(&word);
            used = w;
            continue;
        }
        for c in word.chars() {
            let cw = glyph(c, encoding).1;
            if used + cw > cols {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines.retain(|l| !l.is_empty());
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Words and the spaces between them as separate pieces; each CJK character is a piece of its
/// own (Chinese breaks between any two characters).
fn split_keeping_spaces(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c == ' ' || !c.is_ascii() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(c.to_string());
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_takes_two_columns_in_gb18030_and_is_a_question_mark_in_ascii() {
        assert_eq!(width("金额 12.34", Encoding::Gb18030), 10);
        assert_eq!(width("金额", Encoding::Ascii), 2);
        assert_eq!(printable("金额 ok", Encoding::Ascii), "?? ok");
        assert_eq!(glyph('金', Encoding::Gb18030).0, vec![0xBD, 0xF0]);
        // A control character would be a printer command.
        assert_eq!(printable("a\x1bb", Encoding::Gb18030), "a?b");
        // U+1F600 is four bytes in GB18030: not in a printer's font.
        assert_eq!(printable("x😀", Encoding::Gb18030), "x?");
    }

    #[test]
    fn wraps_at_spaces_and_between_chinese_characters() {
        assert_eq!(
            wrap("do not hand over the goods", 12, Encoding::Gb18030),
            vec!["do not hand", "over the", "goods"]
        );
        let zh = wrap("结果未明请勿交付商品", 8, Encoding::Gb18030);
        assert_eq!(zh, vec!["结果未明", "请勿交付", "商品"]);
        assert!(zh.iter().all(|l| width(l, Encoding::Gb18030) <= 8));
        assert_eq!(
            wrap("abcdefghijkl", 5, Encoding::Gb18030),
            vec!["abcde", "fghij", "kl"]
        );
    }
}
