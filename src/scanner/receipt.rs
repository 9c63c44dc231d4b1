//! A paycode receipt's barcode: the sale's order number, `device_info` (1–15 of
//! `[0-9A-Za-z_-]`) followed by a 17-digit Beijing-time stamp `YYYYMMDDHHMMSSmmm`
//! (`checkout::order_no`). Recognised so the refund screen can select the sale by scanning
//! its slip; it is never a payment code. Pure.

/// The order number `text` is, if it has a receipt's shape and cannot be any wallet's code.
pub fn order_no(text: &str) -> Option<&str> {
    let len = text.len();
    if !(18..=32).contains(&len) {
        return None;
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    let (prefix, stamp) = text.split_at(len - 17);
    if !stamp.bytes().all(|b| b.is_ascii_digit()) || !plausible(stamp) {
        return None;
    }
    // An all-digit text of a wallet's length could be someone's payment code (Alipay 16–24,
    // UnionPay 19): only a prefix with a letter, `-` or `_`, or a length no wallet uses, is a
    // receipt. (A till whose device_info is only digits gets receipts longer than 24 from 8
    // digits on.)
    if prefix.bytes().all(|b| b.is_ascii_digit()) && len <= 24 {
        return None;
    }
    Some(text)
}

/// `YYYYMMDDHHMMSSmmm` of this century with fields in range.
fn plausible(stamp: &str) -> bool {
    let n = |from: usize, to: usize| stamp[from..to].parse::<u32>().unwrap_or(u32::MAX);
    stamp.starts_with("20")
        && (1..=12).contains(&n(4, 6))
        && (1..=31).contains(&n(6, 8))
        && n(8, 10) < 24
        && n(10, 12) < 60
        && n(12, 14) < 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_told_from_codes() {
        for yes in [
            "till-120261203023518729",
            "T120261203023518729",
            "shop_a-till-1520261203235959999",
            "1234567820261203023518729",
        ] {
            assert_eq!(order_no(yes), Some(yes), "{yes}");
        }
        for no in [
            // A WeChat code, an Alipay-length all-digit text, a UnionPay one.
            "134567890123456789",
            "2220261203023518729",
            "6220261203023518729",
            // Month 13, a letter in the stamp, too long, a space, empty.
            "till-120261303023518729",
            "till-12026120302351872x",
            "till-1-till-1-till-120261203023518729",
            "till 120261203023518729",
            "",
        ] {
            assert_eq!(order_no(no), None, "{no}");
        }
    }
}
