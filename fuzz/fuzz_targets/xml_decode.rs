//! `wxpay::xml::decode` on arbitrary bytes: never panics; an accepted document re-encodes and
//! decodes to the same fields; error excerpts never carry a run of 16+ digits (a payment code).
#![no_main]

use libfuzzer_sys::fuzz_target;
use paycode::wxpay::xml;

/// Longest run of consecutive ASCII digits in `s`.
fn longest_digit_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for b in s.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

fuzz_target!(|data: &[u8]| {
    match xml::decode(data) {
        Ok(fields) => {
            let again = xml::encode(&fields);
            // No size cap on the second pass: escaping may legitimately grow the document.
            let back = xml::decode_with_limit(again.as_bytes(), usize::MAX)
                .unwrap_or_else(|e| panic!("re-encoded document refused: {e}\n{again:?}"));
            if back != fields {
                let a: Vec<_> = fields.iter().collect();
                let b: Vec<_> = back.iter().collect();
                panic!("round trip changed the fields:\n{a:?}\n{b:?}\nvia {again:?}");
            }
        }
        Err(e) => {
            let ex = e.excerpt();
            assert!(ex.chars().count() <= 80, "excerpt too long: {ex:?}");
            assert!(longest_digit_run(ex) < 16, "excerpt leaks digits: {ex:?}");
            let msg = e.to_string();
            assert!(
                longest_digit_run(&msg) < 16,
                "message leaks digits: {msg:?}"
            );
        }
    }
    // The excerpt and safe_text helpers on their own, at a position taken from the input.
    let pos = data
        .first()
        .map_or(0, |&b| usize::from(b) * data.len() / 256);
    let ex = xml::excerpt(data, pos);
    assert!(
        longest_digit_run(&ex) < 16,
        "excerpt({pos}) leaks digits: {ex:?}"
    );
    assert!(ex.chars().count() <= 80);
    let safe = xml::safe_text(&String::from_utf8_lossy(data), 128);
    assert!(
        longest_digit_run(&safe) < 16,
        "safe_text leaks digits: {safe:?}"
    );
    assert!(!safe.chars().any(char::is_control));
    assert!(safe.chars().count() <= 128);
});
