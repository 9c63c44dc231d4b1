//! Text from outside paycode (network replies, command-line arguments, files) made safe to keep
//! and to show: a terminal obeys escape sequences, a bell or a carriage return, and a direction
//! mark makes text read differently from its bytes, so none of them passes; a digit run as long
//! as a payment code is masked; and the length is capped.

/// Direction marks and overrides (U+200E/F, U+202A–E, U+2066–9): not control characters to
/// Unicode, but they reorder what a terminal or a receipt shows.
pub fn is_direction_mark(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether `s` holds a direction mark.
pub fn has_direction_mark(s: &str) -> bool {
    s.chars().any(is_direction_mark)
}

/// Whether `c` may not reach a terminal as it is: control characters, direction marks, and
/// the line and paragraph separators (U+2028/9), which break a line where none is seen.
fn unsafe_char(c: char) -> bool {
    c.is_control() || is_direction_mark(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `s` with every control character and direction mark replaced by `?`, payment-code-long digit
/// runs masked, and at most `max` characters (a cut is marked with `…`).
pub fn shown(s: &str, max: usize) -> String {
    let plain: String = s
        .chars()
        .map(|c| if unsafe_char(c) { '?' } else { c })
        .collect();
    let masked = crate::authcode::mask_digit_runs(&plain);
    if masked.chars().count() <= max {
        return masked;
    }
    let mut cut: String = masked.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// [`shown`] for a message of ours that may quote what a caller sent: only digit runs that
/// could be a wallet's code are masked, so the till's own order numbers (a 17-digit Beijing
/// stamp after the device id) stay whole — the reader must be able to look the sale up.
pub fn shown_message(s: &str, max: usize) -> String {
    let plain: String = s
        .chars()
        .map(|c| if unsafe_char(c) { '?' } else { c })
        .collect();
    let masked = crate::authcode::mask_codes(&plain);
    if masked.chars().count() <= max {
        return masked;
    }
    let mut cut: String = masked.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The longest argument echoed back whole.
const ARG_MAX: usize = 64;

/// An argument echoed in a message. Masked when it is all digits and as long as a payment code
/// could be (a code typed where an amount or an order number belongs), and any digit run in it
/// that could be a wallet's code is masked; other digits stay (an order number starts with the
/// till's id and a timestamp) and only unsafe characters go.
pub fn shown_arg(arg: &str) -> String {
    if arg.len() >= 16 && arg.bytes().all(|b| b.is_ascii_digit()) {
        return crate::authcode::mask_digit_runs(arg);
    }
    let plain: String = arg
        .chars()
        .map(|c| if unsafe_char(c) { '?' } else { c })
        .collect();
    let plain = crate::authcode::mask_codes(&plain);
    if plain.chars().count() <= ARG_MAX {
        return plain;
    }
    let mut cut: String = plain.chars().take(ARG_MAX - 1).collect();
    cut.push('…');
    cut
}

/// `s` with every control character and direction mark replaced by `?`, nothing else changed:
/// for values kept as they came (a reply's `openid`, `attach`), which are compared, not masked.
pub fn plain(s: &str) -> String {
    if is_plain(s) {
        return s.to_string();
    }
    s.chars()
        .map(|c| if unsafe_char(c) { '?' } else { c })
        .collect()
}

/// An informative value from a reply kept and shown but never relied on (`bank_type`,
/// `openid`, …): [`plain`], any digit run that could be a payment code masked, and at most
/// `max` characters (a cut is marked with `…`). Order numbers are not masked this way: a till
/// id ending in a digit before the stamp reads like a code.
pub fn kept(s: &str, max: usize) -> String {
    let masked = crate::authcode::mask_codes(&plain(s));
    if masked.chars().count() <= max {
        return masked;
    }
    let mut cut: String = masked.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Whether `s` can be shown as it is (no control characters, no direction marks).
pub fn is_plain(s: &str) -> bool {
    !s.chars().any(unsafe_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_bells_and_direction_marks_never_pass() {
        let s = shown("\u{1b}[2J\u{7}ok\r\n\u{202e}x\u{2066}", 64);
        assert_eq!(s, "?[2J?ok???x?");
        assert!(is_plain(&s));
        assert!(!is_plain("a\u{200f}b"));
        assert!(has_direction_mark("a\u{202e}b") && !has_direction_mark("品牌-门店"));
    }

    #[test]
    fn long_digit_runs_are_masked_and_long_text_is_cut() {
        assert_eq!(
            shown("code 134567890123456789", 64),
            "code 13************6789"
        );
        let long = "7".repeat(30_000);
        let s = shown(&long, 40);
        assert_eq!(s.chars().count(), 40);
        assert!(s.starts_with("77*") && s.ends_with('…'), "{s}");
        assert_eq!(shown("short", 40), "short");
    }

    #[test]
    fn kept_values_lose_codes_separators_and_length() {
        assert_eq!(kept("o134567890123456789x", 64), "o13************6789x");
        assert_eq!(kept("a\u{2028}b\u{2029}", 64), "a?b?");
        assert_eq!(
            kept("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", 64),
            "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
        );
        let s = kept(&"B".repeat(30_000), 128);
        assert_eq!(s.chars().count(), 128);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn arguments_keep_order_digits_but_lose_escapes() {
        assert_eq!(shown_arg("134567890123456789"), "13************6789");
        assert_eq!(
            shown_arg("till-1-20261202083000123"),
            "till-1-20261202083000123"
        );
        assert_eq!(shown_arg("x\u{1b}]0;t\u{7}"), "x?]0;t?");
        assert_eq!(shown_arg(&"a".repeat(500)).chars().count(), ARG_MAX);
        // A code beside other characters is masked too; an order number's stamp is not.
        assert_eq!(shown_arg("x134567890123456789%"), "x13************6789%");
        assert_eq!(shown_arg("134567890123456789\n"), "13************6789?");
        assert_eq!(shown_arg("7-20261202083000123"), "7-20261202083000123");
    }
}
