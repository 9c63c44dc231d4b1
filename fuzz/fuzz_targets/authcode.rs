//! `AuthCode::parse` on arbitrary UTF-8: never panics; `Ok` exactly for 18 ASCII digits with
//! prefix 10–15; no rendering (Display, Debug, masked, error text) shows digits 3–14 of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paycode::authcode::{AuthCode, Wallet, wallet_of};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = AuthCode::parse(s);
    assert_eq!(parsed, s.parse::<AuthCode>());

    let b = s.as_bytes();
    let is_wechat = b.len() == 18
        && b.iter().all(u8::is_ascii_digit)
        && (b"10".as_slice()..=b"15".as_slice()).contains(&&b[..2]);
    assert_eq!(parsed.is_ok(), is_wechat, "accepted/refused wrongly: {s:?}");
    if is_wechat {
        assert_eq!(wallet_of(s), Wallet::WeChat);
    }

    // Digits 3–14 (1-based) are the hidden middle; check only when they are all digits, since
    // ordinary words of an error message could otherwise match arbitrary text.
    let middle = s
        .get(2..14)
        .filter(|m| m.bytes().all(|c| c.is_ascii_digit()));
    let renders: Vec<String> = match &parsed {
        Ok(code) => {
            let masked = code.masked();
            assert_eq!(masked.len(), 18);
            assert_eq!(&masked[..2], &s[..2]);
            assert_eq!(&masked[14..], &s[14..]);
            assert!(masked[2..14].bytes().all(|c| c == b'*'));
            vec![code.to_string(), format!("{code:?}"), masked]
        }
        Err(e) => vec![e.to_string(), format!("{e:?}"), e.zh()],
    };
    if let Some(m) = middle {
        for r in &renders {
            assert!(!r.contains(m), "rendering shows the hidden digits: {r:?}");
        }
    }
});
