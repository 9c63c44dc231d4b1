//! `Fen::parse(&str, ceiling)`: never panics; `Ok(f)` implies `0 < f ≤ ceiling` and that the
//! printed yuan parses back to `f`; and the result agrees with a wide-integer reference parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paycode::money::Fen;

/// Reference: the exact amount in fen of `digits[.d[d]]` (after trimming), or `None` when the
/// text is not of that shape. Wide integers, so any amount below 10^25 yuan is computed exactly.
fn reference(input: &str) -> Option<u128> {
    let s = input.trim();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
        return None;
    }
    if s.ends_with('.') {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 25 {
        return Some(u128::MAX); // far above any u64 ceiling
    }
    let yuan: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut fen: u128 = 0;
    for (i, b) in frac.bytes().enumerate() {
        fen += u128::from(b - b'0') * if i == 0 { 10 } else { 1 };
    }
    Some(yuan * 100 + fen)
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let (ceiling, text) = match sel % 4 {
        0 => (Fen(u64::MAX), rest),
        1 => (Fen(5_000_000), rest),
        2 => (Fen(u64::from(sel)), rest),
        _ => match rest.split_first_chunk::<8>() {
            Some((c, t)) => (Fen(u64::from_le_bytes(*c)), t),
            None => return,
        },
    };
    let Ok(s) = std::str::from_utf8(text) else {
        return;
    };
    let got = Fen::parse(s, ceiling);
    match &got {
        Ok(f) => {
            assert!(
                f.0 > 0 && f.0 <= ceiling.0,
                "{s:?} gave {f:?} under {ceiling:?}"
            );
            let printed = f.to_string();
            assert_eq!(
                Fen::parse(&printed, ceiling),
                Ok(*f),
                "{printed} does not parse back"
            );
            assert_eq!(Fen::parse_unbounded(s), Ok(*f));
        }
        Err(e) => {
            let _ = (e.to_string(), e.zh());
        }
    }
    let want = reference(s).filter(|&v| v > 0 && v <= u128::from(ceiling.0));
    assert_eq!(
        got.as_ref().ok().map(|f| u128::from(f.0)),
        want,
        "{s:?} under {ceiling:?}: got {got:?}"
    );
});
