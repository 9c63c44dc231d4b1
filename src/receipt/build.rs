//! Slips from journal rows. Only what WeChat verified is printed: a paid slip needs a sale in
//! state paid with its transaction id, a reversal slip a reversed sale; a sale not settled gets
//! the unresolved slip, which tells the cashier not to hand over the goods. The payment code
//! appears only as the journal keeps it, masked.

use super::layout::{Encoding, Format, SlipLanguage};
use super::slip::{Align, Item, Slip};
use crate::journal::export::beijing_time;
use crate::journal::{Refund, SaleRow, SaleState};
use crate::money::Fen;
use crate::words::{Bilingual, Words};
use std::fmt;

/// What every slip starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `[printer] store_name`, else `[merchant] body`.
    pub store_name: String,
    /// A copy printed again on request (`paycode receipt`): marked, and never opens the drawer.
    pub reprint: bool,
}

/// Why a sale or refund gets no slip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPrintable(pub Words);

impl fmt::Display for NotPrintable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.en)
    }
}

impl Bilingual for NotPrintable {
    fn zh(&self) -> String {
        self.0.zh.clone()
    }
}

/// The slip for a sale as the journal has it now: paid, reversed or not settled.
pub fn sale_slip(sale: &SaleRow, header: &Header, format: &Format) -> Result<Slip, NotPrintable> {
    match sale.state {
        SaleState::Paid => paid(sale, header, format),
        SaleState::Reversed => Ok(reversed(sale, header, format)),
        SaleState::Failed => Err(NotPrintable(Words::new(
            format!(
                "sale {} was not charged: there is no slip to print",
                sale.out_trade_no
            ),
            format!("订单 {} 未扣款:没有可打印的小票", sale.out_trade_no),
        ))),
        SaleState::Intent | SaleState::Submitted | SaleState::Reversing | SaleState::Unresolved => {
            Ok(unresolved(sale, header, format))
        }
    }
}

/// A paid sale's slip (the customer's receipt).
pub fn paid(sale: &SaleRow, header: &Header, format: &Format) -> Result<Slip, NotPrintable> {
    let Some(txid) = sale.transaction_id.as_deref().filter(|t| !t.is_empty()) else {
        return Err(NotPrintable(Words::new(
            format!(
                "sale {} has no WeChat transaction id: a paid slip is only printed for what WeChat confirmed",
                sale.out_trade_no
            ),
            format!(
                "订单 {} 没有微信支付单号:只为微信确认的付款打印小票",
                sale.out_trade_no
            ),
        )));
    };
    if sale.state != SaleState::Paid {
        return Err(NotPrintable(Words::new(
            format!("sale {} is not paid", sale.out_trade_no),
            format!("订单 {} 未支付", sale.out_trade_no),
        )));
    }
    let l = format.language;
    let mut s = Slip::default();
    top(&mut s, header, l);
    title(
        &mut s,
        l,
        &Words::new("PAID - WeChat Pay", "微信支付 - 支付成功"),
    );
    big(&mut s, amount(sale.total_fee, format.encoding));
    s.push(Item::Rule);
    sale_lines(&mut s, sale, l, format.encoding);
    pair(
        &mut s,
        l,
        &Words::new("Payment code", "付款码"),
        crate::authcode::mask_digit_runs(&sale.code_masked),
    );
    pair(
        &mut s,
        l,
        &Words::new("WeChat transaction", "微信支付单号"),
        txid,
    );
    s.push(Item::Rule);
    s.push(Item::Barcode(sale.out_trade_no.clone()));
    s.push(Item::Qr(sale.out_trade_no.clone()));
    note(
        &mut s,
        l,
        &Words::new(
            "Keep this slip: refunds need the order number",
            "请保留小票:退款需凭商户单号",
        ),
    );
    s.push(Item::Feed(1));
    s.opens_drawer = !header.reprint;
    Ok(s)
}

/// A reversed sale's slip: nothing is owed, any money taken went back.
pub fn reversed(sale: &SaleRow, header: &Header, format: &Format) -> Slip {
    let l = format.language;
    let mut s = Slip::default();
    top(&mut s, header, l);
    title(
        &mut s,
        l,
        &Words::new("REVERSED - not charged", "已撤销 - 未收款"),
    );
    s.push(Item::Rule);
    pair(
        &mut s,
        l,
        &Words::new("Amount", "金额"),
        amount(sale.total_fee, format.encoding),
    );
    sale_lines(&mut s, sale, l, format.encoding);
    s.push(Item::Rule);
    note(
        &mut s,
        l,
        &Words::new(
            "This sale was cancelled: the customer owes nothing, and any money WeChat took went back to the customer.",
            "本笔交易已撤销:顾客无需付款,微信如已扣款,款项已退回顾客。",
        ),
    );
    s.push(Item::Feed(1));
    s
}

/// The slip of a sale that is not settled: the goods stay, the manager settles it later.
pub fn unresolved(sale: &SaleRow, header: &Header, format: &Format) -> Slip {
    let l = format.language;
    let mut s = Slip::default();
    top(&mut s, header, l);
    title(
        &mut s,
        l,
        &Words::new(
            "UNRESOLVED — do not hand over goods",
            "结果未明 — 请勿交付商品",
        ),
    );
    s.push(Item::Rule);
    pair(
        &mut s,
        l,
        &Words::new("Amount", "金额"),
        amount(sale.total_fee, format.encoding),
    );
    sale_lines(&mut s, sale, l, format.encoding);
    s.push(Item::Rule);
    note(
        &mut s,
        l,
        &Words::new(
            "WeChat has not confirmed this payment. This is not a receipt. A manager settles it from the pending list (F3) or with `paycode recover`: a payment WeChat confirms later is returned to the customer unless the manager keeps it.",
            "微信尚未确认此笔付款,本单不是收款凭证。请店长在待处理列表(F3)或用 `paycode recover` 处理:微信稍后确认的付款将退回顾客,除非店长确认保留。",
        ),
    );
    s.push(Item::Barcode(sale.out_trade_no.clone()));
    s.push(Item::Feed(1));
    s
}

/// A refund's slip, with the state WeChat last confirmed for it.
pub fn refund(
    sale: &SaleRow,
    refund: &Refund,
    header: &Header,
    format: &Format,
) -> Result<Slip, NotPrintable> {
    if refund.out_trade_no != sale.out_trade_no {
        return Err(NotPrintable(Words::new(
            format!(
                "refund {} is not of sale {}",
                refund.out_refund_no, sale.out_trade_no
            ),
            format!(
                "退款 {} 不属于订单 {}",
                refund.out_refund_no, sale.out_trade_no
            ),
        )));
    }
    let l = format.language;
    let mut s = Slip::default();
    top(&mut s, header, l);
    let heading = if refund.state.accepted() {
        Words::new("REFUND - WeChat Pay", "微信支付 - 退款")
    } else {
        Words::new("REFUND NOT CONFIRMED", "退款未确认")
    };
    title(&mut s, l, &heading);
    big(&mut s, amount(refund.refund_fee, format.encoding));
    s.push(Item::Rule);
    pair(
        &mut s,
        l,
        &Words::new("Time", "时间"),
        beijing_time(refund.created_ms),
    );
    pair(&mut s, l, &Words::new("Till", "收银台"), &sale.device_info);
    pair(
        &mut s,
        l,
        &Words::new("Sale amount", "原交易金额"),
        amount(sale.total_fee, format.encoding),
    );
    pair(
        &mut s,
        l,
        &Words::new("Order no", "商户单号"),
        &sale.out_trade_no,
    );
    pair(
        &mut s,
        l,
        &Words::new("Refund no", "退款单号"),
        &refund.out_refund_no,
    );
    if let Some(id) = refund.refund_id.as_deref().filter(|i| !i.is_empty()) {
        pair(
            &mut s,
            l,
            &Words::new("WeChat refund id", "微信退款单号"),
            id,
        );
    }
    s.push(Item::Rule);
    let state = refund.state.words();
    note(
        &mut s,
        l,
        &Words::new(format!("State: {}", state.en), format!("状态:{}", state.zh)),
    );
    s.push(Item::Feed(1));
    Ok(s)
}

/// An amount as the slip prints it: the full-width yuan sign where the font has it.
pub fn amount(fen: Fen, encoding: Encoding) -> String {
    match encoding {
        Encoding::Gb18030 => format!("￥{fen}"),
        Encoding::Ascii => format!("CNY {fen}"),
    }
}

fn top(s: &mut Slip, header: &Header, l: SlipLanguage) {
    s.push(Item::Text {
        text: header.store_name.clone(),
        align: Align::Center,
        bold: true,
        big: false,
    });
    if header.reprint {
        title(s, l, &Words::new("COPY (reprint)", "重印副本"));
    }
}

fn sale_lines(s: &mut Slip, sale: &SaleRow, l: SlipLanguage, _enc: Encoding) {
    pair(
        s,
        l,
        &Words::new("Time", "时间"),
        beijing_time(sale.created_ms),
    );
    pair(s, l, &Words::new("Till", "收银台"), &sale.device_info);
    pair(
        s,
        l,
        &Words::new("Order no", "商户单号"),
        &sale.out_trade_no,
    );
}

/// The wording in the slip's languages, one line each.
fn each(l: SlipLanguage, w: &Words) -> Vec<String> {
    match l {
        SlipLanguage::Zh => vec![w.zh.clone()],
        SlipLanguage::En => vec![w.en.clone()],
        SlipLanguage::Both => vec![w.zh.clone(), w.en.clone()],
    }
}

/// A label in the slip's languages on one line (`金额 Amount`).
fn label(l: SlipLanguage, w: &Words) -> String {
    match l {
        SlipLanguage::Zh => w.zh.clone(),
        SlipLanguage::En => w.en.clone(),
        SlipLanguage::Both => format!("{} {}", w.zh, w.en),
    }
}

fn title(s: &mut Slip, l: SlipLanguage, w: &Words) {
    for t in each(l, w) {
        s.push(Item::Text {
            text: t,
            align: Align::Center,
            bold: true,
            big: false,
        });
    }
}

fn big(s: &mut Slip, text: String) {
    s.push(Item::Text {
        text,
        align: Align::Center,
        bold: true,
        big: true,
    });
}

fn note(s: &mut Slip, l: SlipLanguage, w: &Words) {
    for t in each(l, w) {
        s.push(Item::Text {
            text: t,
            align: Align::Left,
            bold: false,
            big: false,
        });
    }
}

fn pair(s: &mut Slip, l: SlipLanguage, w: &Words, value: impl Into<String>) {
    s.push(Item::Pair {
        label: label(l, w),
        value: value.into(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::RefundState;

    fn header() -> Header {
        Header {
            store_name: "Corner Shop".into(),
            reprint: false,
        }
    }

    fn sale(state: SaleState, txid: Option<&str>) -> SaleRow {
        let mut s = SaleRow::paid_for_tests("till-120260101120000123", 1234);
        s.state = state;
        s.transaction_id = txid.map(str::to_string);
        s.code_masked = "13************4321".into();
        s.device_info = "till-1".into();
        s
    }

    #[test]
    fn a_paid_slip_needs_the_transaction_id_and_the_paid_state() {
        let f = Format::default();
        assert!(paid(&sale(SaleState::Paid, None), &header(), &f).is_err());
        assert!(paid(&sale(SaleState::Unresolved, Some("42")), &header(), &f).is_err());
        let s = paid(&sale(SaleState::Paid, Some("4200001")), &header(), &f).unwrap();
        assert!(s.opens_drawer);
        assert!(
            s.items
                .contains(&Item::Barcode("till-120260101120000123".into()))
        );
        assert!(
            s.items
                .contains(&Item::Qr("till-120260101120000123".into()))
        );
        let reprint = Header {
            reprint: true,
            ..header()
        };
        let again = paid(&sale(SaleState::Paid, Some("4200001")), &reprint, &f).unwrap();
        assert!(!again.opens_drawer, "a reprint never opens the drawer");
    }

    #[test]
    fn each_state_gets_its_own_slip_and_a_failed_sale_none() {
        let f = Format::default();
        let text = |s: &Slip| format!("{:?}", s.items);
        let un = sale_slip(&sale(SaleState::Submitted, None), &header(), &f).unwrap();
        assert!(text(&un).contains("请勿交付商品"), "{}", text(&un));
        assert!(text(&un).contains("do not hand over goods"));
        assert!(!un.opens_drawer);
        let rev = sale_slip(&sale(SaleState::Reversed, None), &header(), &f).unwrap();
        assert!(text(&rev).contains("REVERSED"));
        let failed = sale_slip(&sale(SaleState::Failed, None), &header(), &f).unwrap_err();
        assert!(failed.zh().contains("未扣款"));
    }

    #[test]
    fn the_code_is_only_ever_masked() {
        let mut s = sale(SaleState::Paid, Some("4200001"));
        // Even a journal row holding a whole code (written by hand) prints it masked.
        s.code_masked = "134567890123456789".into();
        let slip = paid(&s, &header(), &Format::default()).unwrap();
        let all = format!("{:?}", slip.items);
        assert!(!all.contains("134567890123456789"), "{all}");
        assert!(all.contains("13************6789"));
    }

    #[test]
    fn a_refund_slip_says_what_wechat_confirmed() {
        let s = sale(SaleState::Paid, Some("4200001"));
        let mut r = Refund {
            out_trade_no: s.out_trade_no.clone(),
            out_refund_no: "R1".into(),
            refund_fee: Fen(500),
            reason: String::new(),
            state: RefundState::Requested,
            refund_id: None,
            err_code: None,
            created_ms: 0,
            updated_ms: 0,
            authorised: None,
        };
        let f = Format {
            language: SlipLanguage::En,
            ..Format::default()
        };
        let open = format!("{:?}", refund(&s, &r, &header(), &f).unwrap().items);
        assert!(open.contains("REFUND NOT CONFIRMED"), "{open}");
        r.state = RefundState::Success;
        r.refund_id = Some("5030".into());
        let done = format!("{:?}", refund(&s, &r, &header(), &f).unwrap().items);
        assert!(
            done.contains("State: refunded") && done.contains("5030"),
            "{done}"
        );
        r.out_trade_no = "other".into();
        assert!(refund(&s, &r, &header(), &f).is_err());
    }
}
