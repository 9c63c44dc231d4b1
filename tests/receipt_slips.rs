//! Slips as the printer gets them: each kind built from journal rows, encoded to ESC/POS and
//! read back by the tests' own reader (tests/printer_support), snapshot-tested in both paper
//! widths and both languages (and both at once).
#![allow(clippy::unwrap_used)]

mod printer_support;

use paycode::journal::{Refund, RefundState, SaleRow, SaleState};
use paycode::money::Fen;
use paycode::receipt::build::{self, Header};
use paycode::receipt::escpos::encode;
use paycode::receipt::{Encoding, Format, Slip, SlipLanguage, Width, preview, text};
use printer_support::{Printed, read, render};

const NO: &str = "till-720260101203000123";

fn sale(state: SaleState) -> SaleRow {
    SaleRow {
        out_trade_no: NO.into(),
        total_fee: Fen(12_345),
        code_fp: "fp".into(),
        code_masked: "13************4321".into(),
        device_info: "till-7".into(),
        // 2026-01-01 20:30:00 in Beijing.
        created_ms: 1_767_270_600_000,
        updated_ms: 1_767_270_601_000,
        state,
        transaction_id: (state == SaleState::Paid).then(|| "4200002026010112345678901234".into()),
        bank_type: Some("OTHERS".into()),
        cash_fee: Some(Fen(12_345)),
        err_code: None,
        message: None,
        attach: Some("tag".into()),
        pos_ref: None,
    }
}

fn refund() -> Refund {
    Refund {
        out_trade_no: NO.into(),
        out_refund_no: format!("{NO}R1"),
        refund_fee: Fen(2_000),
        reason: String::new(),
        state: RefundState::Success,
        refund_id: Some("50300000002026010100000000001".into()),
        err_code: None,
        created_ms: 1_767_271_200_000,
        updated_ms: 1_767_271_260_000,
        authorised: None,
    }
}

fn header() -> Header {
    Header {
        store_name: "街角小店 Corner Shop".into(),
        reprint: false,
    }
}

fn format(width: Width, language: SlipLanguage) -> Format {
    Format {
        width,
        language,
        drawer_kick: true,
        ..Format::default()
    }
}

/// The slip through the encoder and back through the reader.
fn printed(slip: &Slip, f: &Format) -> Vec<Printed> {
    let lines = read(&encode(slip, f));
    // Every text line fits the paper (CJK counted as two columns, big text as double).
    for l in &lines {
        if let Printed::Text { text: t, big, .. } = l {
            let w = text::width(t, f.encoding) * if *big { 2 } else { 1 };
            assert!(w <= f.width.columns(), "{t:?} is {w} columns");
        }
    }
    lines
}

#[test]
fn paid_slip_in_both_widths_and_languages() {
    for (width, wname) in [(Width::Mm58, "58"), (Width::Mm80, "80")] {
        for (lang, lname) in [
            (SlipLanguage::Zh, "zh"),
            (SlipLanguage::En, "en"),
            (SlipLanguage::Both, "both"),
        ] {
            let f = format(width, lang);
            let slip = build::paid(&sale(SaleState::Paid), &header(), &f).unwrap();
            let lines = printed(&slip, &f);
            assert_eq!(printer_support::barcodes(&lines), vec![NO.to_string()]);
            assert!(lines.contains(&Printed::Qr(NO.into())));
            assert!(
                lines.ends_with(&[Printed::Cut, Printed::DrawerKick]),
                "{lines:?}"
            );
            insta::assert_snapshot!(format!("paid_{wname}_{lname}"), render(&lines));
        }
    }
}

#[test]
fn refund_reversal_and_unresolved_slips() {
    let f = format(Width::Mm58, SlipLanguage::Both);
    let paid = sale(SaleState::Paid);
    let r = build::refund(&paid, &refund(), &header(), &f).unwrap();
    insta::assert_snapshot!("refund_58_both", render(&printed(&r, &f)));
    let rev = build::reversed(&sale(SaleState::Reversed), &header(), &f);
    let lines = printed(&rev, &f);
    assert!(
        !lines.contains(&Printed::DrawerKick),
        "a reversal opens no drawer"
    );
    insta::assert_snapshot!("reversed_58_both", render(&lines));
    let f80 = format(Width::Mm80, SlipLanguage::Both);
    let un = build::unresolved(&sale(SaleState::Unresolved), &header(), &f80);
    let lines = printed(&un, &f80);
    let all = printer_support::text_of(&lines);
    assert!(all.contains("UNRESOLVED — do not hand over goods"), "{all}");
    assert!(all.contains("结果未明 — 请勿交付商品"), "{all}");
    assert!(!lines.contains(&Printed::DrawerKick));
    insta::assert_snapshot!("unresolved_80_both", render(&lines));
}

#[test]
fn a_reprint_is_marked_and_opens_no_drawer() {
    let f = format(Width::Mm58, SlipLanguage::En);
    let h = Header {
        reprint: true,
        ..header()
    };
    let lines = printed(&build::paid(&sale(SaleState::Paid), &h, &f).unwrap(), &f);
    assert!(printer_support::text_of(&lines).contains("COPY (reprint)"));
    assert!(!lines.contains(&Printed::DrawerKick));
}

#[test]
fn ascii_prints_chinese_as_question_marks() {
    let f = Format {
        encoding: Encoding::Ascii,
        ..format(Width::Mm58, SlipLanguage::Zh)
    };
    let lines = printed(
        &build::paid(&sale(SaleState::Paid), &header(), &f).unwrap(),
        &f,
    );
    let all = printer_support::text_of(&lines);
    assert!(all.is_ascii(), "{all}");
    assert!(all.contains("CNY 123.45") && all.contains("????"), "{all}");
}

#[test]
fn a_report_prints_through_the_same_path() {
    let f = format(Width::Mm58, SlipLanguage::Both);
    let slip = Slip::report(
        &paycode::words::Words::new("Shift report", "交班报表"),
        vec!["sales 3  ￥45.00".into(), "退款 1  ￥5.00".into()],
    );
    let lines = printed(&slip, &f);
    let all = printer_support::text_of(&lines);
    assert!(all.starts_with("交班报表\nShift report\n"), "{all}");
    assert!(all.contains("退款 1  ￥5.00"));
    assert!(!lines.contains(&Printed::DrawerKick));
}

#[test]
fn the_preview_shows_what_the_printer_gets() {
    let f = format(Width::Mm58, SlipLanguage::Both);
    let slip = build::paid(&sale(SaleState::Paid), &header(), &f).unwrap();
    let preview = preview::lines(&slip, &f).join("\n");
    let printed_text = printer_support::text_of(&printed(&slip, &f));
    // Every printed text line is in the preview, and the codes carry their data.
    for l in printed_text.lines().filter(|l| !l.trim().is_empty()) {
        assert!(preview.contains(l.trim()), "{l:?} missing from\n{preview}");
    }
    assert!(preview.contains(&format!("CODE128 {NO}")) && preview.contains(&format!("[QR {NO}]")));
    insta::assert_snapshot!("preview_58_both", preview);
}
