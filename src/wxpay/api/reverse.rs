//! `/secapi/pay/reverse` (docs/protocol.md §7): cancel an unfinished or unknown micropay.

use super::orderquery::OrderRef;
use super::{Body, Merchant, Reply, ReplyError, RequestError, invalid, nonempty, verify_reply};

/// Reverse (撤销) one order. Sent over mutual TLS by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverseRequest {
    pub order: OrderRef,
}

impl ReverseRequest {
    /// Validate and build the signed XML body.
    pub fn to_xml(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        let mut b = Body::new(m, nonce)?;
        self.order.put(&mut b)?;
        Ok(b.finish())
    }
}

/// A verified reverse result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reversal {
    /// `recall=Y`: WeChat asks for another reverse call.
    pub recall: bool,
}

impl Reply<Reversal> {
    /// Whether to call reverse again; `recall` also appears on `result_code=FAIL` replies.
    pub fn recall(&self) -> bool {
        match &self.result {
            Ok(r) => r.recall,
            Err(_) => self.fields.get("recall") == Some("Y"),
        }
    }
}

/// Verify a reverse reply against its request.
pub fn parse_reverse(
    body: &[u8],
    req: &ReverseRequest,
    m: &Merchant,
) -> Result<Reply<Reversal>, ReplyError> {
    let (f, result) = verify_reply(body, m)?;
    req.order.echo(&f)?;
    let recall = match nonempty(&f, "recall") {
        None | Some("N") => false,
        Some("Y") => true,
        Some(_) => return Err(invalid("recall")),
    };
    let result = result.map(|()| Reversal { recall });
    Ok(Reply { result, fields: f })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{merchant, reply};
    use super::super::{ErrClass, mismatch};
    use super::*;
    use crate::wxpay::sign::SignType;
    use crate::wxpay::xml;

    fn r() -> ReverseRequest {
        ReverseRequest {
            order: OrderRef::OutTradeNo("T1".into()),
        }
    }

    #[test]
    fn request_carries_the_order() {
        let m = merchant(SignType::HmacSha256);
        let f = xml::decode(r().to_xml(&m, "n").unwrap().as_bytes()).unwrap();
        assert_eq!(f.get("out_trade_no"), Some("T1"));
        assert_eq!(f.get("sign_type"), Some("HMAC-SHA256"));
    }

    #[test]
    fn recall_values() {
        let m = merchant(SignType::Md5);
        type Case = (
            &'static [(&'static str, &'static str)],
            Result<bool, ReplyError>,
        );
        let table: &[Case] = &[
            (&[("result_code", "SUCCESS"), ("recall", "N")], Ok(false)),
            (&[("result_code", "SUCCESS"), ("recall", "Y")], Ok(true)),
            (&[("result_code", "SUCCESS")], Ok(false)),
            (
                &[("result_code", "SUCCESS"), ("recall", "yes")],
                Err(invalid("recall")),
            ),
            (
                &[("result_code", "SUCCESS"), ("out_trade_no", "T9")],
                Err(mismatch("out_trade_no")),
            ),
            (
                &[
                    ("result_code", "FAIL"),
                    ("err_code", "SYSTEMERROR"),
                    ("recall", "Y"),
                ],
                Ok(true),
            ),
        ];
        for (fields, want) in table {
            let got = parse_reverse(&reply(&m, fields), &r(), &m).map(|x| x.recall());
            assert_eq!(&got, want, "{fields:?}");
        }
    }

    #[test]
    fn userpaying_during_reverse() {
        let m = merchant(SignType::Md5);
        let body = reply(
            &m,
            &[
                ("result_code", "FAIL"),
                ("err_code", "USERPAYING"),
                ("err_code_des", "正在支付中不能发起撤销"),
                ("recall", "Y"),
            ],
        );
        let got = parse_reverse(&body, &r(), &m).unwrap();
        assert!(got.recall());
        assert_eq!(got.result.unwrap_err().class, ErrClass::Unknown);
    }
}
