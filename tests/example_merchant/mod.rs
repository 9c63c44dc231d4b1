//! The merchant of docs/protocol.md §2's documented example (appid, mch_id and test key), shared
//! by the protocol tests that sign and verify with it.
#![allow(clippy::unwrap_used, dead_code)]

use paycode::wxpay::api::Merchant;
use paycode::wxpay::sign::{ApiKey, SignType};

/// The documented test key.
pub const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// The example merchant signing with `t`.
pub fn merchant(t: SignType) -> Merchant {
    Merchant {
        appid: "wxd930ea5d5a258f4f".into(),
        mch_id: "10000100".into(),
        sub_appid: None,
        sub_mch_id: None,
        key: ApiKey::new(KEY).unwrap(),
        sign_type: t,
    }
}
