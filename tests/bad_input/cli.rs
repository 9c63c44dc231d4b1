//! Door 1: the command line. Amounts, payment codes, order numbers, `--ref`, flags, `--code -`
//! with bad stdin and refund arguments: each refused (exit 3) in both languages, masked, with
//! nothing journaled or sent.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::Stdio;

use crate::checkout_support::{Harness, Run};
use crate::checks::{all, clean_run, mark, refused, refused_text, untouched};
use crate::tally::Door;

/// A code shaped like a customer's, typed where it does not belong.
const CODE: &str = "134567890123456789";

fn run_stdin(h: &Harness, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = h
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin);
    drop(input);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One refused command: `en`/`zh` in the JSON refusal, nothing written or sent, no `secrets`.
fn expect(d: &mut Door, h: &Harness, name: &str, args: &[&str], en: &str, zh: &str) {
    d.check(name, || {
        let before = mark(h);
        let r = h.run(args);
        all([refused(&r, en, zh, &[CODE]), untouched(h, &before)])
    });
}

pub fn run(d: &mut Door) {
    let h = Harness::new();
    amounts(d, &h);
    codes(d, &h);
    stdin_codes(d, &h);
    pos_refs(d, &h);
    flags(d, &h);
    // A paid sale for the order-number and refund cases.
    let (r, v) = h.pay("10.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let paid = v["out_trade_no"].as_str().unwrap().to_string();
    order_numbers(d, &h);
    refunds(d, &h, &paid);
}

fn amounts(d: &mut Door, h: &Harness) {
    let u64_over = "18446744073709551616";
    let fen_over = "184467440737095516.16";
    let thousand = "1".repeat(1000);
    let cases: &[(&str, &str, &str, &str)] = &[
        ("empty", "", "no amount", "未输入金额"),
        ("spaces only", "   ", "no amount", "未输入金额"),
        ("zero", "0", "above zero", "大于零"),
        ("zero with decimals", "0.00", "above zero", "大于零"),
        ("zero one decimal", "0.0", "above zero", "大于零"),
        ("negative", "-1", "negative", "负数"),
        ("negative fen", "-0.01", "negative", "负数"),
        ("negative zero", "-0", "negative", "负数"),
        (
            "three decimals",
            "1.234",
            "at most two decimals",
            "两位小数",
        ),
        (
            "tenth of a fen",
            "0.001",
            "at most two decimals",
            "两位小数",
        ),
        (
            "many decimals",
            "0.00000000001",
            "at most two decimals",
            "两位小数",
        ),
        ("exponent", "1e3", "not an amount", "不是金额"),
        ("exponent upper", "1E2", "not an amount", "不是金额"),
        ("hex", "0x10", "not an amount", "不是金额"),
        ("octal-ish", "0o17", "not an amount", "不是金额"),
        ("inner space", "1 000", "not an amount", "不是金额"),
        ("inner tab", "1\t2", "not an amount", "不是金额"),
        ("space in decimals", "12.3 4", "not an amount", "不是金额"),
        (
            "full-width digits",
            "１２.００",
            "not an amount",
            "不是金额",
        ),
        ("arabic-indic digits", "١٢", "not an amount", "不是金额"),
        (
            "arabic-indic decimals",
            "12.٣٤",
            "not an amount",
            "不是金额",
        ),
        ("devanagari digits", "१२", "not an amount", "不是金额"),
        ("plus sign", "+1", "not an amount", "不是金额"),
        ("comma decimal", "1,00", "not an amount", "不是金额"),
        ("thousands comma", "1,000.00", "not an amount", "不是金额"),
        ("leading point", ".5", "not an amount", "不是金额"),
        (
            "dangling point",
            "1.",
            "missing digits after the decimal point",
            "小数点后缺少数字",
        ),
        ("two points", "1..2", "not an amount", "不是金额"),
        ("three parts", "1.2.3", "not an amount", "不是金额"),
        ("nan", "nan", "not an amount", "不是金额"),
        ("inf", "inf", "not an amount", "不是金额"),
        ("yuan sign", "¥12", "not an amount", "不是金额"),
        ("yuan word", "12元", "not an amount", "不是金额"),
        ("fraction", "1/2", "not an amount", "不是金额"),
        (
            "escape sequence",
            "\u{1b}[31m12",
            "not an amount",
            "不是金额",
        ),
        ("bell", "12\u{7}", "not an amount", "不是金额"),
        (
            "direction override",
            "12\u{202e}",
            "not an amount",
            "不是金额",
        ),
        (
            "over max_amount by a fen",
            "10000.01",
            "ceiling of 10000.00",
            "上限",
        ),
        (
            "far over max_amount",
            "99999999",
            "ceiling of 10000.00",
            "上限",
        ),
        ("u64 overflow", u64_over, "ceiling of 10000.00", "上限"),
        ("fen overflow", fen_over, "ceiling of 10000.00", "上限"),
        ("thousand digits", &thousand, "ceiling of 10000.00", "上限"),
        (
            "payment code as amount",
            CODE,
            "13************6789",
            "13************6789",
        ),
    ];
    for (name, amount, en, zh) in cases {
        let code = h.code("normal");
        let arg = format!("--amount={amount}");
        d.check(format!("amount: {name}"), || {
            let before = mark(h);
            let r = h.run(&["pay", &arg, "--code", &code, "--json"]);
            all([refused(&r, en, zh, &[CODE, &code]), untouched(h, &before)])
        });
    }
}

fn codes(d: &mut Door, h: &Harness) {
    let long30 = "1".repeat(30);
    let cases: &[(&str, &str, &str, &str)] = &[
        ("empty", "", "no payment code", "未输入付款码"),
        ("four digits", "1234", "too short", "太短"),
        (
            "seventeen digits",
            "13456789012345678",
            "too short: 17 digits",
            "太短",
        ),
        (
            "nineteen digits",
            "1345678901234567890",
            "too long: 19 digits",
            "太长",
        ),
        ("thirty digits", &long30, "too long: 30 digits", "太长"),
        (
            "trailing letter",
            "13456789012345678a",
            "character 18 is not a digit",
            "第 18 个字符",
        ),
        (
            "letters",
            "abcdefghijklmnopqr",
            "not a payment code",
            "付款码",
        ),
        ("prefix 09", "093456789012345678", "starts 09", "09"),
        ("prefix 16", "163456789012345678", "starts 16", "16"),
        ("prefix 19", "193456789012345678", "starts 19", "19"),
        ("prefix 00", "003456789012345678", "starts 00", "00"),
        ("alipay 25", "253456789012345678", "Alipay", "支付宝"),
        ("alipay 26", "263456789012345678", "Alipay", "支付宝"),
        ("alipay 27", "273456789012345678", "Alipay", "支付宝"),
        ("alipay 28", "283456789012345678", "Alipay", "支付宝"),
        ("alipay 29", "293456789012345678", "Alipay", "支付宝"),
        ("alipay 30", "303456789012345678", "Alipay", "支付宝"),
        ("unionpay 62", "6234567890123456789", "UnionPay", "银联"),
        (
            "goods barcode ean-13",
            "6901234567892",
            "goods barcode",
            "商品条码",
        ),
        (
            "inner space",
            "134567 890123456789",
            "not a digit",
            "不是数字",
        ),
        (
            "leading space",
            " 134567890123456789",
            "not a digit",
            "不是数字",
        ),
        (
            "trailing newline",
            "134567890123456789\n",
            "not a digit",
            "不是数字",
        ),
        (
            "inner newline",
            "134567890\n123456789",
            "not a digit",
            "不是数字",
        ),
        (
            "dashes",
            "13-4567-8901-2345-6789",
            "not a digit",
            "不是数字",
        ),
        (
            "full-width digits",
            "１３４５６７８９０１２３４５６７８９",
            "not a digit",
            "不是数字",
        ),
        (
            "arabic-indic digits",
            "١٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩",
            "not a digit",
            "不是数字",
        ),
        (
            "escape sequence",
            "13\u{1b}[2J4567890123456",
            "not a digit",
            "不是数字",
        ),
        (
            "bell",
            "13\u{7}345678901234567",
            "character 3 is not a digit",
            "第 3 个字符",
        ),
        (
            "direction override",
            "13\u{202e}4567890123456789",
            "not a digit",
            "不是数字",
        ),
        (
            "zero width space",
            "13\u{200b}4567890123456789",
            "not a digit",
            "不是数字",
        ),
    ];
    for (name, code, en, zh) in cases {
        let arg = format!("--code={code}");
        d.check(format!("code: {name}"), || {
            let before = mark(h);
            let r = h.run(&["pay", "--amount", "1.00", &arg, "--json"]);
            let digits: String = code.chars().filter(char::is_ascii_digit).collect();
            all([refused(&r, en, zh, &[CODE, &digits]), untouched(h, &before)])
        });
    }
}

fn stdin_codes(d: &mut Door, h: &Harness) {
    let huge = "1".repeat(1 << 20);
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("nothing", vec![], "nothing on stdin", "标准输入为空"),
        (
            "blank lines",
            b"\n\n\n".to_vec(),
            "nothing on stdin",
            "标准输入为空",
        ),
        ("short code", b"1234567\n".to_vec(), "too short", "太短"),
        (
            "escape junk",
            b"\x1b[2J\x1b]0;x\x07\n".to_vec(),
            "not a digit",
            "不是数字",
        ),
        (
            "not utf-8",
            b"13\xff\xfe4567890123456789\n".to_vec(),
            "--code -",
            "--code -",
        ),
        (
            "a megabyte of digits",
            huge.into_bytes(),
            "too long",
            "太长",
        ),
        (
            "alipay",
            b"283456789012345678\n".to_vec(),
            "Alipay",
            "支付宝",
        ),
    ];
    for (name, input, en, zh) in cases {
        d.check(format!("code from stdin: {name}"), || {
            let before = mark(h);
            let r = run_stdin(
                h,
                &["pay", "--amount", "1.00", "--code", "-", "--json"],
                &input,
            );
            all([refused(&r, en, zh, &[CODE]), untouched(h, &before)])
        });
    }
}

fn pos_refs(d: &mut Door, h: &Harness) {
    let long = "r".repeat(65);
    let longer = "r".repeat(5000);
    let cases: &[(&str, &str, &str, &str)] = &[
        ("empty", "", "--ref is empty", "--ref 为空"),
        ("65 characters", &long, "65 characters long", "--ref 长 65"),
        (
            "5000 characters",
            &longer,
            "5000 characters long",
            "--ref 长 5000",
        ),
        (
            "escape sequence",
            "pos-1\u{1b}[2J",
            "printable ASCII",
            "可打印",
        ),
        ("bell", "pos-1\u{7}", "printable ASCII", "可打印"),
        ("newline", "pos-1\nX", "printable ASCII", "可打印"),
        ("carriage return", "pos-1\rX", "printable ASCII", "可打印"),
        ("tab", "pos\t1", "printable ASCII", "可打印"),
        ("space", "pos 1", "printable ASCII", "可打印"),
        ("chinese", "订单1", "printable ASCII", "可打印"),
        (
            "direction override",
            "pos\u{202e}1",
            "printable ASCII",
            "可打印",
        ),
        // Review of issue 16: a POS passing the customer's code as its order id.
        ("a payment code", CODE, "payment code", "付款码"),
        (
            "a payment code inside",
            "POS-134567890123456789-1",
            "payment code",
            "付款码",
        ),
    ];
    for (name, pos_ref, en, zh) in cases {
        let code = h.code("normal");
        let arg = format!("--ref={pos_ref}");
        d.check(format!("--ref: {name}"), || {
            let before = mark(h);
            let r = h.run(&["pay", "--amount", "1.00", "--code", &code, &arg, "--json"]);
            all([refused(&r, en, zh, &[&code]), untouched(h, &before)])
        });
    }
}

fn flags(d: &mut Door, h: &Harness) {
    let code = h.code("normal");
    let c = code.as_str();
    let bad = "invalid command line";
    let bad_zh = "命令行参数有误";
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "unknown flag",
            vec!["pay", "--amont", "1.00", "--code", c, "--json"],
        ),
        (
            "missing --amount value",
            vec!["pay", "--code", c, "--json", "--amount"],
        ),
        (
            "missing --code value",
            vec!["pay", "--amount", "1.00", "--json", "--code"],
        ),
        ("no --code", vec!["pay", "--amount", "1.00", "--json"]),
        ("no --amount", vec!["pay", "--code", c, "--json"]),
        (
            "--amount twice",
            vec![
                "pay", "--amount", "1", "--amount", "2", "--code", c, "--json",
            ],
        ),
        (
            "code as a positional",
            vec!["pay", "--amount", "1.00", CODE, "--json"],
        ),
        (
            "unknown command",
            vec!["payy", "--amount", "1.00", "--code", c, "--json"],
        ),
        ("query without a number", vec!["query", "--json"]),
        ("refund without a number", vec!["refund", "--json"]),
        (
            "refund --amount without value",
            vec!["refund", "x", "--json", "--amount"],
        ),
        ("two order numbers", vec!["query", "a", "b", "--json"]),
        (
            "history bad date",
            vec!["history", "--date", "2026-13-45", "--json"],
        ),
        (
            "history word date",
            vec!["history", "--date", "yesterday", "--json"],
        ),
        (
            "history date with escape",
            vec!["history", "--date", "2026-01-01\u{1b}[2J", "--json"],
        ),
        (
            "reconcile bad date",
            vec!["reconcile", "--date", "1999-99-99", "--json"],
        ),
        // Review of issue 16: a code typed as the date was echoed whole.
        (
            "history date a code",
            vec!["history", "--date", CODE, "--json"],
        ),
        ("shift date a code", vec!["shift", "--date", CODE, "--json"]),
    ];
    for (name, args) in cases {
        d.check(format!("flags: {name}"), || {
            let before = mark(h);
            let r = h.run(&args);
            // A date names itself; clap's errors are "invalid command line" in both.
            let date = args.contains(&"--date");
            let (en, zh) = if date {
                ("date", "日期")
            } else {
                (bad, bad_zh)
            };
            all([refused(&r, en, zh, &[CODE, c]), untouched(h, &before)])
        });
    }
    // Review of issue 16: paths are echoed in errors; escapes and codes in them never pass.
    let nasty = format!("/nonexistent/\u{1b}[2J{CODE}/x");
    d.check("flags: --config path with an escape and a code", || {
        let r = h.run(&["--config", &nasty, "config"]);
        if r.code != 3 {
            return Err(format!("exit {}", r.code));
        }
        clean_run(&r, &[CODE])
    });
    d.check("flags: backup path with an escape and a code", || {
        let before = mark(h);
        let r = h.run(&["backup", &nasty, "--json"]);
        all([
            refused(&r, "backup", "备份", &[CODE]),
            untouched(h, &before),
            if r.stdout.contains("payments are disabled") {
                Err("a backup refusal said payments are disabled".into())
            } else {
                Ok(())
            },
        ])
    });
    // Without --json, clap prints its own error: still exit 3 and never the code whole.
    d.check("flags: code as a positional, plain text", || {
        let r = h.run(&["pay", "--amount", "1.00", CODE]);
        if r.code != 3 {
            return Err(format!("exit {}", r.code));
        }
        clean_run(&r, &[CODE])
    });
    d.check("flags: unknown flag, plain text", || {
        let r = h.run(&["pay", "--amount=1.00", "--code", c, "--colour"]);
        if r.code != 3 {
            return Err(format!("exit {}", r.code));
        }
        clean_run(&r, &[c])
    });
}

fn order_numbers(d: &mut Door, h: &Harness) {
    let long = "x".repeat(40);
    let huge = "x".repeat(5000);
    let cases: &[(&str, &str)] = &[
        ("40 characters", &long),
        ("5000 characters", &huge),
        ("escape sequence", "till-7\u{1b}[2J\u{1b}]0;owned\u{7}"),
        ("bell", "till-7\u{7}"),
        ("newline", "till-7\nPAID"),
        ("carriage return", "till-7\rPAID ¥1.00"),
        ("direction override", "till-7\u{202e}DIAP"),
        ("payment code", CODE),
        ("payment code after a letter", "x134567890123456789"),
        ("payment code before a percent", "134567890123456789%"),
        ("payment code and a newline", "134567890123456789\n"),
        ("unknown", "till-7nope"),
        ("empty", ""),
    ];
    for cmd in ["query", "accept", "reverse", "refund"] {
        for (name, no) in cases {
            expect(
                d,
                h,
                &format!("{cmd} order number: {name}"),
                &[cmd, no, "--json"],
                "no sale",
                "账本中没有订单",
            );
        }
    }
    // The plain-text form prints the same refusal on stderr.
    d.check("query order number: escape sequence, plain text", || {
        let before = mark(h);
        let r = h.run(&["query", "till-7\u{1b}[2J"]);
        all([
            refused_text(&r, "no sale", "账本中没有订单", &[CODE]),
            untouched(h, &before),
        ])
    });
}

fn refunds(d: &mut Door, h: &Harness, paid: &str) {
    let long_reason = "r".repeat(81);
    let amounts: &[(&str, &str, &str, &str)] = &[
        ("zero", "0", "above zero", "大于零"),
        ("negative", "-1", "negative", "负数"),
        (
            "three decimals",
            "1.234",
            "at most two decimals",
            "两位小数",
        ),
        ("letters", "abc", "not an amount", "不是金额"),
        ("empty", "", "no amount", "未输入金额"),
        ("full-width", "１", "not an amount", "不是金额"),
        ("exponent", "1e1", "not an amount", "不是金额"),
        ("over max_amount", "99999", "ceiling", "上限"),
        (
            "payment code",
            CODE,
            "13************6789",
            "13************6789",
        ),
        ("more than the sale", "10.01", "10.00", "10.00"),
    ];
    for (name, amount, en, zh) in amounts {
        let arg = format!("--amount={amount}");
        expect(
            d,
            h,
            &format!("refund amount: {name}"),
            &["refund", paid, &arg, "--json"],
            en,
            zh,
        );
    }
    let reasons: &[(&str, &str)] = &[
        ("81 characters", &long_reason),
        ("escape sequence", "sorry\u{1b}[2J"),
        ("bell", "sorry\u{7}"),
        ("newline", "sorry\nagain"),
        ("direction override", "sorry\u{202e}"),
    ];
    // Review of issue 16: a reason holding the customer's code was stored and sent.
    d.check("refund reason: a payment code", || {
        let before = mark(h);
        let arg = format!("--reason=cust {CODE}");
        let r = h.run(&["refund", paid, "--amount", "1.00", &arg, "--json"]);
        all([
            refused(&r, "payment code", "付款码", &[CODE]),
            untouched(h, &before),
        ])
    });
    for (name, reason) in reasons {
        let arg = format!("--reason={reason}");
        expect(
            d,
            h,
            &format!("refund reason: {name}"),
            &["refund", paid, "--amount", "1.00", &arg, "--json"],
            "refund_desc",
            "refund_desc",
        );
    }
}
