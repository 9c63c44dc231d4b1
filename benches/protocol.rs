//! One pure protocol round: build+sign+encode a micropay request, and decode+verify+parse a
//! realistic paid reply, for MD5 and HMAC-SHA256. Run: `cargo bench --bench protocol`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use paycode::authcode::AuthCode;
use paycode::money::Fen;
use paycode::wxpay::api::{Merchant, MicropayRequest, parse_micropay, signed_xml};
use paycode::wxpay::sign::{ApiKey, SignType};

fn merchant(t: SignType) -> Merchant {
    Merchant {
        appid: "wxd930ea5d5a258f4f".into(),
        mch_id: "10000100".into(),
        sub_appid: None,
        sub_mch_id: None,
        key: ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap_or_else(|e| panic!("{e}")),
        sign_type: t,
    }
}

fn request() -> MicropayRequest {
    MicropayRequest {
        out_trade_no: "20250131120000-0001".into(),
        total_fee: Fen(2500),
        auth_code: AuthCode::parse("134567890123454321").unwrap_or_else(|e| panic!("{e}")),
        body: "好味道-南山店-午餐".into(),
        spbill_create_ip: std::net::IpAddr::from([10, 0, 0, 8]),
        device_info: Some("TILL-3".into()),
        attach: None,
        goods_tag: None,
        no_credit: false,
    }
}

fn paid_reply(m: &Merchant) -> Vec<u8> {
    let f = [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("appid", m.appid.as_str()),
        ("mch_id", m.mch_id.as_str()),
        ("device_info", "TILL-3"),
        ("nonce_str", "sthBJ9QyUG6vkrjJ"),
        ("result_code", "SUCCESS"),
        ("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        ("is_subscribe", "N"),
        ("trade_type", "MICROPAY"),
        ("bank_type", "CMB_DEBIT"),
        ("fee_type", "CNY"),
        ("total_fee", "2500"),
        ("coupon_fee", "100"),
        ("coupon_count", "1"),
        ("coupon_id_0", "10000001"),
        ("coupon_fee_0", "100"),
        ("cash_fee_type", "CNY"),
        ("cash_fee", "2400"),
        ("transaction_id", "4200002345202501311234567890"),
        ("out_trade_no", "20250131120000-0001"),
        ("time_end", "20250131120005"),
    ];
    signed_xml(f, &m.key, m.sign_type).into_bytes()
}

fn bench(c: &mut Criterion) {
    let req = request();
    for (name, t) in [
        ("md5", SignType::Md5),
        ("hmac_sha256", SignType::HmacSha256),
    ] {
        let m = merchant(t);
        c.bench_function(&format!("micropay_request_{name}"), |b| {
            b.iter(|| black_box(&req).to_xml(black_box(&m), "sthBJ9QyUG6vkrjJ"))
        });
        let body = paid_reply(&m);
        if parse_micropay(&body, &req, &m).is_err() {
            panic!("bench fixture does not verify");
        }
        c.bench_function(&format!("micropay_reply_{name}"), |b| {
            b.iter(|| parse_micropay(black_box(&body), &req, &m))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
