use super::*;

const MAX: Fen = Fen(1_000_000);

#[allow(clippy::disallowed_methods)] // tests start the virtual clock anywhere
fn t0() -> Instant {
    Instant::now()
}

/// The last total shown after feeding `bytes` in one chunk and letting the line settle.
fn total_of(set: CommandSet, bytes: &[u8]) -> Option<Fen> {
    let at = t0();
    let mut d = Decoder::new(set, MAX);
    let pushed = d.push(bytes, at);
    d.poll(at + SETTLE).or(pushed)
}

fn gb(s: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(s).0.into_owned()
}

/// A CD5220 POS: init, clear, item on the upper line, total on the lower.
fn cd5220(item: &str, total: &[u8]) -> Vec<u8> {
    let mut v = b"\x1b@\x0c\x1bQA".to_vec();
    v.extend_from_slice(item.as_bytes());
    v.extend_from_slice(b"\r\x1bQB");
    v.extend_from_slice(total);
    v.push(b'\r');
    v
}

/// An ESC/POS display POS: init, clear, cursor to (1,1) for the item, (1,2) for the total.
fn escpos(item: &str, total: &str) -> Vec<u8> {
    let mut v = b"\x1b@\x0c\x1f$\x01\x01".to_vec();
    v.extend_from_slice(item.as_bytes());
    v.extend_from_slice(b"\x1f$\x01\x02");
    v.extend_from_slice(total.as_bytes());
    v
}

#[test]
fn cd5220_strings_end_at_cr() {
    let at = t0();
    let mut d = Decoder::new(CommandSet::Cd5220, MAX);
    // The total is known at its CR, without waiting.
    assert_eq!(
        d.push(&cd5220("Cola 3.50", b"TOTAL 12.50"), at),
        Some(Fen(1250))
    );
    assert_eq!(d.lines(), ["Cola 3.50".to_string(), "TOTAL 12.50".into()]);
    assert_eq!(d.deadline(), None);
    // GB18030 on the display's code page.
    assert_eq!(
        total_of(CommandSet::Cd5220, &cd5220("可乐", &gb("合计 ￥8.80"))),
        Some(Fen(880))
    );
    // ESC Q D (scrolling upper line) is text for the upper line too.
    assert_eq!(
        total_of(CommandSet::Cd5220, b"\x1bQDTotal: 5.00\r"),
        Some(Fen(500))
    );
}

#[test]
fn cd5220_cursor_commands_place_the_text() {
    // ESC l x y to the lower line, overwrite, ESC [ H home.
    let mut v = b"\x0cWelcome\x1bl\x01\x02TOTAL 9.90\x1b[H".to_vec();
    let at = t0();
    let mut d = Decoder::new(CommandSet::Cd5220, MAX);
    assert_eq!(d.push(&v, at), Some(Fen(990)));
    // The same line overwritten in place: CAN clears it, the new total ends with CR.
    v = b"\x1bl\x01\x02\x18TOTAL 19.90\r".to_vec();
    assert_eq!(d.push(&v, at), Some(Fen(1990)));
    assert_eq!(d.lines()[1], "TOTAL 19.90");
    // Rewriting only the upper line does not show the old total again.
    assert_eq!(d.push(b"\x1bQAThank you\r", at), None);
    assert_eq!(d.poll(at + SETTLE), None);
}

#[test]
fn escpos_text_settles_when_the_cursor_moves_or_the_line_goes_quiet() {
    let at = t0();
    let mut d = Decoder::new(CommandSet::Escpos, MAX);
    assert_eq!(
        d.push(escpos("Milk 2.00", "TOTAL 12.50").as_slice(), at),
        None
    );
    assert_eq!(d.deadline(), Some(at + SETTLE));
    assert_eq!(d.poll(at + SETTLE - Duration::from_millis(1)), None);
    assert_eq!(d.poll(at + SETTLE), Some(Fen(1250)));
    assert_eq!(d.deadline(), None);
    // A cursor move right after the text shows it at once (CAN first: overwriting
    // "TOTAL 12.50" with "TOTAL 3.00" alone leaves "TOTAL 3.000", as on the real display).
    assert_eq!(d.push(b"\x1f$\x01\x02TOTAL 3.00\x1f$\x01\x01", at), None);
    assert_eq!(d.lines()[1], "TOTAL 3.000");
    assert_eq!(
        d.push(b"\x1f$\x01\x02\x18TOTAL 3.00\x1f$\x01\x01", at),
        Some(Fen(300))
    );
    // US B (bottom), US CR, US LF and the one-byte settings are consumed, not shown.
    assert_eq!(
        total_of(
            CommandSet::Escpos,
            b"\x1fC\x00\x1fX\x04\x1fE\x00\x1fr\x00\x1f\x01\x1fBTotal 4.40\x1f\r"
        ),
        Some(Fen(440))
    );
}

#[test]
fn plain_lines_in_ascii_and_gb18030() {
    let stream = b"Item 1    3.00\r\nSubtotal 10.00\r\nTOTAL 12.50\r\n";
    for set in [CommandSet::Lines, CommandSet::Auto] {
        assert_eq!(total_of(set, stream), Some(Fen(1250)), "{set:?}");
        assert_eq!(
            total_of(set, &gb("合计 ¥12.50\r\n")),
            Some(Fen(1250)),
            "{set:?}"
        );
        assert_eq!(total_of(set, b"Total: 12.50\n"), Some(Fen(1250)), "{set:?}");
    }
    // A line longer than a display line is read whole.
    let long = b"Thank you for shopping with us today -- Total amount due: 88.80\r\n";
    assert_eq!(total_of(CommandSet::Lines, long), Some(Fen(8880)));
    // In auto it wraps onto the second line and is read across it.
    assert_eq!(
        total_of(
            CommandSet::Auto,
            b"Thanks for shopping at Corner Shop, TOTAL 88.80\r\n"
        ),
        Some(Fen(8880))
    );
}

#[test]
fn auto_understands_both_command_sets() {
    assert_eq!(
        total_of(CommandSet::Auto, &cd5220("Cola 3.50", b"TOTAL 12.50")),
        Some(Fen(1250))
    );
    assert_eq!(
        total_of(CommandSet::Auto, &escpos("Cola 3.50", "TOTAL 7.25")),
        Some(Fen(725))
    );
}

#[test]
fn the_last_total_wins_and_refusals_are_no_total() {
    let mut s = cd5220("", b"TOTAL 3.00");
    s.extend(cd5220("", b"TOTAL 4.00"));
    assert_eq!(total_of(CommandSet::Cd5220, &s), Some(Fen(400)));
    for bad in [
        &b"TOTAL -3.00"[..],
        b"TOTAL 20000.00",
        b"TOTAL 12.3.4",
        b"TOTAL abc",
        b"TOTAL 0.00",
    ] {
        assert_eq!(
            total_of(CommandSet::Cd5220, &cd5220("x", bad)),
            None,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn split_writes_give_the_same_total() {
    let streams = [
        (CommandSet::Cd5220, cd5220("Cola 3.50", b"TOTAL 12.50")),
        (CommandSet::Escpos, escpos("Cola 3.50", "TOTAL 12.50")),
        (CommandSet::Lines, b"Sub 1.00\r\nTOTAL 12.50\r\n".to_vec()),
    ];
    for (set, bytes) in streams {
        for cut in 0..=bytes.len() {
            let at = t0();
            let mut d = Decoder::new(set, MAX);
            let a = d.push(&bytes[..cut], at);
            let b = d.push(&bytes[cut..], at);
            let c = d.poll(at + SETTLE);
            assert_eq!(c.or(b).or(a), Some(Fen(1250)), "{set:?} cut at {cut}");
        }
        // One byte at a time.
        let at = t0();
        let mut d = Decoder::new(set, MAX);
        let mut last = None;
        for b in &bytes {
            last = d.push(std::slice::from_ref(b), at).or(last);
        }
        assert_eq!(d.poll(at + SETTLE).or(last), Some(Fen(1250)), "{set:?}");
    }
}

/// A tiny deterministic generator (SplitMix64) for the property runs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn byte(&mut self) -> u8 {
        (self.next() >> 24) as u8
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Sequences the decoder knows the length of, and ones it does not know at all: either kind
/// between a POS's commands leaves the total as it was.
#[test]
fn unknown_and_skipped_sequences_between_commands_do_not_desynchronise() {
    let inserts: [&[u8]; 14] = [
        b"\x1bz",
        b"\x1b\x11",
        b"\x1b*\x03",
        b"\x1b=\x02",
        b"\x1bW\x01\x01\x14\x01",
        b"\x1b&\x01\x41\x42\x05\x7f\x7f\x7f\x7f\x7f\x05\x01\x02\x03\x04\x05",
        b"\x1b[Z",
        b"\x1f\x7a",
        b"\x1f#\x01\x05",
        b"\x1f(D\x04\x00\x06\x30\x00\x00",
        b"\x1f(A\x00\x00",
        b"\x1fT\x10",
        b"\x00\x01\x02\x07\x7f",
        b"\x1f\x03",
    ];
    let base = [
        b"\x1b@\x0c".to_vec(),
        b"\x1bQACola 3.50\r".to_vec(),
        b"\x1bQBTOTAL 12.50\r".to_vec(),
    ];
    let mut rng = Rng(0x5eed);
    for run in 0..500 {
        let mut bytes = Vec::new();
        for part in &base {
            for _ in 0..rng.below(3) {
                bytes.extend_from_slice(inserts[rng.below(inserts.len())]);
            }
            bytes.extend_from_slice(part);
        }
        assert_eq!(
            total_of(CommandSet::Auto, &bytes),
            Some(Fen(1250)),
            "run {run}: {bytes:02x?}"
        );
    }
}

/// Whatever garbage came before, the POS's next `ESC @` (after at most a couple of KiB, the
/// longest parameter run skipped) starts a clean screen and its total is read.
#[test]
fn garbage_then_a_new_transaction_is_read() {
    let mut rng = Rng(42);
    for run in 0..1000 {
        let len = rng.below(300);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        bytes.extend(std::iter::repeat_n(0u8, 2000));
        bytes.extend(cd5220("Cola", b"TOTAL 12.50"));
        assert_eq!(
            total_of(CommandSet::Auto, &bytes),
            Some(Fen(1250)),
            "run {run}: garbage {:02x?}",
            &bytes[..len]
        );
    }
}

#[test]
fn a_megabyte_of_garbage_keeps_the_screen_its_size() {
    for set in [
        CommandSet::Auto,
        CommandSet::Cd5220,
        CommandSet::Escpos,
        CommandSet::Lines,
    ] {
        let mut rng = Rng(9);
        let at = t0();
        let mut d = Decoder::new(set, MAX);
        let chunk: Vec<u8> = (0..4096).map(|_| rng.byte()).collect();
        for _ in 0..256 {
            let _ = d.push(&chunk, at);
        }
        // Printable text without a line end, a megabyte of it.
        let text = vec![b'7'; 1 << 20];
        let _ = d.push(&text, at);
        assert!(d.rows.iter().all(|r| r.len() == set.width()), "{set:?}");
        let _ = d.poll(at + SETTLE);
        assert_eq!(d.push(b"\x1b@", at), None);
        assert_eq!(d.rows, [vec![b' '; set.width()], vec![b' '; set.width()]]);
    }
}

#[test]
fn command_sets_have_their_config_spelling() {
    for s in ["auto", "cd5220", "escpos", "lines"] {
        assert_eq!(CommandSet::parse(s).map(CommandSet::as_str), Some(s));
    }
    assert_eq!(CommandSet::parse("CD5220"), None);
    assert_eq!(CommandSet::default(), CommandSet::Auto);
}
