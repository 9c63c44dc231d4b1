//! Pure decoders for raw hidraw reports: boot-keyboard reports (keyboard-mode scanners) and
//! HID-POS reports (usage page 0x8C). Both turn reports into bytes for the shared
//! [`super::Decoder`]; neither reads the clock.

/// Boot-keyboard report decoder: a report is the set of keys held now, so a key is typed when
/// it appears in a report that the previous one lacked (the same digit twice therefore needs
/// the all-zero key-up report in between, exactly as the kernel's keyboard driver sees it).
#[derive(Debug, Default)]
pub struct BootKeyboard {
    prev: [u8; 6],
    /// Reports carry a leading report id (composite devices with numbered reports).
    numbered: bool,
}

/// Keyboard usage ids (HID usage page 0x07) a scanner sends.
mod usage {
    pub const ERROR_ROLLOVER: u8 = 0x01;
    pub const A: u8 = 0x04;
    pub const Z: u8 = 0x1d;
    pub const D1: u8 = 0x1e;
    pub const D9: u8 = 0x26;
    pub const D0: u8 = 0x27;
    pub const ENTER: u8 = 0x28;
    pub const TAB: u8 = 0x2b;
    pub const SPACE: u8 = 0x2c;
    pub const MINUS: u8 = 0x2d;
    pub const RIGHT_BRACKET: u8 = 0x30;
    pub const KP_ENTER: u8 = 0x58;
    pub const KP1: u8 = 0x59;
    pub const KP9: u8 = 0x61;
    pub const KP0: u8 = 0x62;
}

const SHIFT: u8 = 0x02 | 0x20;

impl BootKeyboard {
    /// A decoder for 8-byte reports, or 9-byte reports with a leading report id.
    pub fn new(numbered: bool) -> Self {
        Self {
            prev: [0; 6],
            numbered,
        }
    }

    /// Decode one report into typed bytes (`\r` for Enter, `\t` for Tab); `out` is appended to.
    /// Malformed (short) reports and rollover-error reports change nothing.
    pub fn report(&mut self, report: &[u8], out: &mut Vec<u8>) {
        let r = if self.numbered {
            report.get(1..).unwrap_or(&[])
        } else {
            report
        };
        let Some(r) = r.get(..8) else { return };
        let keys = &r[2..8];
        if keys.iter().all(|&k| k == usage::ERROR_ROLLOVER) {
            return; // too many keys held: the report says nothing about which
        }
        let shift = r[0] & SHIFT != 0;
        for &k in keys {
            if k > 3
                && !self.prev.contains(&k)
                && let Some(b) = usage_to_byte(k, shift)
            {
                out.push(b);
            }
        }
        self.prev.copy_from_slice(keys);
    }

    /// Forget held keys (after a reconnect).
    pub fn reset(&mut self) {
        self.prev = [0; 6];
    }
}

fn usage_to_byte(k: u8, shift: bool) -> Option<u8> {
    use usage::*;
    Some(match k {
        A..=Z => {
            let base = if shift { b'A' } else { b'a' };
            base + (k - A)
        }
        D1..=D9 if !shift => b'1' + (k - D1),
        D0 if !shift => b'0',
        KP1..=KP9 => b'1' + (k - KP1),
        KP0 => b'0',
        ENTER | KP_ENTER => b'\r',
        TAB => b'\t',
        SPACE => b' ',
        MINUS if !shift => b'-',
        RIGHT_BRACKET if !shift => b']',
        // Shifted digits are symbols on a US layout; an AIM id or a symbol is never a code
        // digit, so pass a placeholder that makes the frame fail validation visibly.
        D1..=D0 | MINUS | RIGHT_BRACKET => b'?',
        _ => return None,
    })
}

/// HID-POS (usage page 0x8C) report decoder: `[report id, length, data…, …, continued]`.
///
/// Vendors differ in the details (SCANNERS.md §2.2), so the layout is a table: where the data
/// starts and which byte says "more reports follow". A leading AIM id `]xx` is left in the data
/// for the shared decoder to strip.
#[derive(Debug)]
pub struct HidPos {
    layout: PosLayout,
    buf: Vec<u8>,
}

/// Byte offsets of one vendor's HID-POS report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosLayout {
    /// The report id of scanned-data reports (others are ignored).
    pub report_id: u8,
    /// Index of the length byte.
    pub len_at: usize,
    /// Index of the first data byte.
    pub data_at: usize,
    /// Index of the byte whose bit 0 means "decode data continued".
    pub continued_at: usize,
}

impl PosLayout {
    /// Newland / Honeywell style 64-byte reports: id 0x02, length at 1, data from 2, flag at 63.
    pub const STANDARD: PosLayout = PosLayout {
        report_id: 0x02,
        len_at: 1,
        data_at: 2,
        continued_at: 63,
    };
}

/// Longest assembled HID-POS code kept (several continued reports).
const MAX_POS_FRAME: usize = 512;

impl HidPos {
    /// A decoder for the given report layout.
    pub fn new(layout: PosLayout) -> Self {
        Self {
            layout,
            buf: Vec::new(),
        }
    }

    /// Feed one report; returns the complete scan once the last report of a code arrives.
    pub fn report(&mut self, report: &[u8]) -> Option<Vec<u8>> {
        let l = self.layout;
        if report.first() != Some(&l.report_id) {
            return None;
        }
        let len = usize::from(*report.get(l.len_at)?);
        let end = (l.data_at + len).min(report.len());
        let data = report.get(l.data_at..end)?;
        if self.buf.len() + data.len() <= MAX_POS_FRAME {
            self.buf.extend_from_slice(data);
        }
        let continued = report.get(l.continued_at).is_some_and(|b| b & 1 == 1);
        if continued {
            return None;
        }
        let mut frame = std::mem::take(&mut self.buf);
        // Some scanners append their configured CR; the frame already ends here.
        while frame.last().is_some_and(|b| matches!(b, b'\r' | b'\n' | 0)) {
            frame.pop();
        }
        Some(frame)
    }

    /// Drop a partly assembled code (after a reconnect).
    pub fn reset(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kbd(reports: &[[u8; 8]]) -> String {
        let mut d = BootKeyboard::new(false);
        let mut out = Vec::new();
        for r in reports {
            d.report(r, &mut out);
        }
        String::from_utf8(out).unwrap()
    }

    const UP: [u8; 8] = [0; 8];
    fn key(k: u8) -> [u8; 8] {
        [0, 0, k, 0, 0, 0, 0, 0]
    }

    #[test]
    fn boot_keyboard_table() {
        let d = |n: u8| if n == 0 { 0x27 } else { 0x1d + n };
        let kp = |n: u8| if n == 0 { 0x62 } else { 0x58 + n };
        let table: Vec<(&str, Vec<[u8; 8]>, &str)> = vec![
            (
                "press + key-up per digit",
                vec![key(d(1)), UP, key(d(3)), UP, key(0x28), UP],
                "13\r",
            ),
            // The same digit twice needs the release in between…
            (
                "repeat with key-up",
                vec![key(d(1)), UP, key(d(1)), UP],
                "11",
            ),
            // …without it the second press is invisible (the report is a state).
            ("repeat without key-up", vec![key(d(1)), key(d(1)), UP], "1"),
            (
                "rollover between different keys",
                vec![key(d(1)), [0, 0, d(1), d(2), 0, 0, 0, 0], key(d(2)), UP],
                "12",
            ),
            (
                "keypad digits and KP-Enter",
                vec![
                    key(kp(1)),
                    UP,
                    key(kp(0)),
                    UP,
                    key(kp(9)),
                    UP,
                    key(0x58),
                    UP,
                ],
                "109\r",
            ),
            ("Tab terminator", vec![key(d(5)), UP, key(0x2b), UP], "5\t"),
            (
                "rollover error report ignored",
                vec![key(d(4)), [0, 0, 1, 1, 1, 1, 1, 1], UP, key(d(4)), UP],
                "44",
            ),
            (
                "left shift letters (AIM id)",
                vec![
                    [0, 0, 0x30, 0, 0, 0, 0, 0],
                    UP,
                    [0x02, 0, 0x14, 0, 0, 0, 0, 0],
                    UP,
                    key(d(1)),
                    UP,
                ],
                "]Q1",
            ),
            ("right shift", vec![[0x20, 0, 0x04, 0, 0, 0, 0, 0], UP], "A"),
            (
                "shifted digit is not a digit",
                vec![[0x02, 0, d(1), 0, 0, 0, 0, 0], UP],
                "?",
            ),
            ("error codes 2 and 3 ignored", vec![key(2), key(3), UP], ""),
            (
                "unknown usage ignored",
                vec![key(0x3a), UP, key(d(7)), UP],
                "7",
            ),
        ];
        for (name, reports, want) in table {
            assert_eq!(kbd(&reports), want, "{name}");
        }
    }

    #[test]
    fn numbered_reports_and_short_reports() {
        let mut d = BootKeyboard::new(true);
        let mut out = Vec::new();
        d.report(&[1, 0, 0, 0x1e, 0, 0, 0, 0, 0], &mut out);
        d.report(&[1, 0, 0, 0, 0, 0, 0, 0, 0], &mut out);
        d.report(&[1, 0, 0, 0x1e], &mut out); // truncated: ignored
        d.report(&[1, 0, 0, 0x28, 0, 0, 0, 0, 0], &mut out);
        assert_eq!(out, b"1\r");
    }

    #[test]
    fn a_whole_scan_through_boot_reports() {
        let code = "110000334455667788";
        let mut reports = Vec::new();
        for c in code.bytes() {
            let u = if c == b'0' { 0x27 } else { 0x1e + (c - b'1') };
            reports.push(key(u));
            reports.push(UP);
        }
        reports.push(key(0x28));
        reports.push(UP);
        assert_eq!(kbd(&reports), format!("{code}\r"));
    }

    fn pos_report(data: &[u8], continued: bool) -> [u8; 64] {
        let mut r = [0u8; 64];
        r[0] = 0x02;
        r[1] = data.len() as u8;
        r[2..2 + data.len()].copy_from_slice(data);
        r[63] = u8::from(continued);
        r
    }

    #[test]
    fn hid_pos_table() {
        let mut d = HidPos::new(PosLayout::STANDARD);
        // One report, with AIM id left for the shared decoder.
        assert_eq!(
            d.report(&pos_report(b"]C0134567890123456789", false))
                .unwrap(),
            b"]C0134567890123456789"
        );
        // Trailing CR and padding stripped.
        assert_eq!(
            d.report(&pos_report(b"134567890123456789\r", false))
                .unwrap(),
            b"134567890123456789"
        );
        // A long code in three reports.
        let long: Vec<u8> = (0..130u8).map(|i| b'0' + i % 10).collect();
        assert_eq!(d.report(&pos_report(&long[..56], true)), None);
        assert_eq!(d.report(&pos_report(&long[56..112], true)), None);
        assert_eq!(d.report(&pos_report(&long[112..], false)).unwrap(), long);
        // Other report ids (status, feature echoes) are ignored and do not break assembly.
        let mut other = pos_report(b"999", false);
        other[0] = 0x03;
        assert_eq!(d.report(&other), None);
        // A length byte beyond the report is clamped, not a panic.
        let mut r = pos_report(b"13", false);
        r[1] = 200;
        assert_eq!(d.report(&r).unwrap(), b"13");
        // A 65-byte report read with a trailing extra byte still decodes.
        let mut r65 = pos_report(b"104567890123450000", false).to_vec();
        r65.push(0);
        assert_eq!(d.report(&r65).unwrap(), b"104567890123450000");
        assert_eq!(d.report(&[0x02]), None);
    }

    #[test]
    fn hid_pos_vendor_layout_with_shifted_data() {
        // A vendor that puts a symbology byte before the data and the flag at byte 62.
        let layout = PosLayout {
            report_id: 0x02,
            len_at: 1,
            data_at: 3,
            continued_at: 62,
        };
        let mut d = HidPos::new(layout);
        let mut r = [0u8; 64];
        r[0] = 2;
        r[1] = 18;
        r[2] = b'Q';
        r[3..21].copy_from_slice(b"134567890123456789");
        assert_eq!(d.report(&r).unwrap(), b"134567890123456789");
        r[62] = 1;
        assert_eq!(d.report(&r), None);
        d.reset();
        r[62] = 0;
        assert_eq!(d.report(&r).unwrap(), b"134567890123456789");
    }
}
