//! The total in the text a pole display shows: "TOTAL 12.50", "合计 ¥12.50", "Total: 12.50".
//! Only the last total keyword counts, and only a positive amount in yuan up to the ceiling
//! right after it; anything else there (a negative, garbage, too much) is not a total.

use crate::money::Fen;

/// Words that introduce the amount to pay. "TOTAL" only as a word of its own ("SUBTOTAL" and
/// "SUB-TOTAL" are not the amount to pay).
const KEYWORDS: [&str; 8] = [
    "TOTAL",
    "AMOUNT DUE",
    "合计",
    "总计",
    "应收",
    "应付",
    "总额",
    "合計",
];

/// Between the keyword and the amount: separators and currency marks.
const FILLER: [char; 13] = [
    ' ', '\t', ':', '：', '=', '¥', '￥', '$', '(', ')', '（', '）', '元',
];
/// Currency words skipped the same way ("TOTAL RMB 12.50").
const CURRENCY: [&str; 3] = ["RMB", "CNY", "YUAN"];

/// The total shown in `bytes` (UTF-8, else GB18030), if the last keyword in it is followed by
/// an amount in yuan that `Fen::parse` accepts under `ceiling` (positive, at most two
/// decimals).
pub fn find(bytes: &[u8], ceiling: Fen) -> Option<Fen> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(bytes).0,
    };
    // ASCII upper case keeps byte offsets, so a keyword's end indexes `text` as well.
    let upper = text.to_ascii_uppercase();
    let end = last_keyword_end(&upper)?;
    amount_after(upper.get(end..)?, ceiling)
}

/// The byte offset just past the last keyword occurrence.
fn last_keyword_end(upper: &str) -> Option<usize> {
    KEYWORDS
        .iter()
        .flat_map(|k| {
            upper
                .match_indices(k)
                .filter(|(at, _)| !(k.starts_with('T') && glued_before(upper, *at)))
                .map(|(at, m)| at + m.len())
        })
        .max()
}

/// "SUBTOTAL", "SUB-TOTAL": a letter or a hyphen right before the keyword.
fn glued_before(upper: &str, at: usize) -> bool {
    upper
        .get(..at)
        .and_then(|b| b.chars().next_back())
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '-')
}

/// The amount at the start of `rest` (after filler), or `None`.
fn amount_after(mut rest: &str, ceiling: Fen) -> Option<Fen> {
    loop {
        let trimmed = rest.trim_start_matches(FILLER);
        let word = CURRENCY.iter().find_map(|w| trimmed.strip_prefix(w));
        match word {
            Some(after) => rest = after,
            None => {
                rest = trimmed;
                break;
            }
        }
    }
    let len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(rest.len());
    let (number, after) = rest.split_at(len);
    // Only a blank, "元" or a closing bracket may follow: "12.50abc", "12.50-" or 12.50 glued
    // to bytes that are no text are not an amount on their own.
    if after
        .chars()
        .next()
        .is_some_and(|c| !(c.is_whitespace() || matches!(c, '元' | ')' | '）')))
    {
        return None;
    }
    let plain = without_grouping(number)?;
    Fen::parse(&plain, ceiling).ok()
}

/// "1,234.50" → "1234.50"; a comma anywhere but between groups of three is not an amount.
fn without_grouping(number: &str) -> Option<String> {
    if !number.contains(',') {
        return Some(number.to_string());
    }
    let whole = number.split('.').next().unwrap_or("");
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or("");
    let ok = (1..=3).contains(&first.len())
        && groups.all(|g| g.len() == 3)
        && !number.split('.').skip(1).any(|d| d.contains(','));
    ok.then(|| number.replace(',', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Fen = Fen(1_000_000);

    fn gb(s: &str) -> Vec<u8> {
        encoding_rs::GB18030.encode(s).0.into_owned()
    }

    #[test]
    fn the_usual_wordings_in_ascii_utf8_and_gb18030() {
        let cases: &[(&[u8], u64)] = &[
            (b"TOTAL 12.50", 1250),
            (b"Total: 12.50", 1250),
            (b"total=7", 700),
            (b"  TOTAL      RMB 3.5 ", 350),
            (b"AMOUNT DUE $1,234.50", 123_450),
            ("合计 ¥12.50".as_bytes(), 1250),
            ("合计:12.50元".as_bytes(), 1250),
            ("应收(元) 88.00".as_bytes(), 8800),
            ("总计 ￥0.01".as_bytes(), 1),
        ];
        for (bytes, fen) in cases {
            assert_eq!(
                find(bytes, MAX),
                Some(Fen(*fen)),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert_eq!(find(&gb("合计 ¥12.50"), MAX), Some(Fen(1250)));
        assert_eq!(find(&gb("商品 3.50 应付 9.90"), MAX), Some(Fen(990)));
    }

    #[test]
    fn the_last_keyword_decides() {
        assert_eq!(
            find(b"SUBTOTAL 10.00      TOTAL 12.50", MAX),
            Some(Fen(1250))
        );
        assert_eq!(find(b"TOTAL 12.50 TOTAL -1", MAX), None);
        assert_eq!(find(b"SUBTOTAL 10.00", MAX), None);
        assert_eq!(find(b"SUB-TOTAL 10.00", MAX), None);
        assert_eq!(find("小计 10.00".as_bytes(), MAX), None);
    }

    #[test]
    fn what_is_not_a_total() {
        for text in [
            "TOTAL -12.50",
            "TOTAL 0.00",
            "TOTAL 0",
            "TOTAL 12.505",
            "TOTAL 12.5.0",
            "TOTAL 12.50abc",
            "TOTAL 12.50\u{fffd}garbage",
            "TOTAL 12.50#",
            "TOTAL 12.",
            "TOTAL .50",
            "TOTAL",
            "TOTAL ----",
            "TOTAL 1,23.00",
            "TOTAL 12,50",
            "TOTAL 10000.01",
            "TOTAL 99999999999999999999999",
            "CHANGE 3.00",
            "",
        ] {
            assert_eq!(find(text.as_bytes(), MAX), None, "{text:?}");
        }
        // Up to the ceiling exactly.
        assert_eq!(find(b"TOTAL 10000.00", MAX), Some(MAX));
    }

    #[test]
    fn broken_bytes_are_no_total_and_no_panic() {
        assert_eq!(find(&[0xff, 0xfe, 0x81], MAX), None);
        assert_eq!(find(b"TOTAL \xff12.50", MAX), None);
        let mut seed = 7u64;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..40)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    (seed >> 56) as u8
                })
                .collect();
            let _ = find(&bytes, MAX);
        }
    }
}
