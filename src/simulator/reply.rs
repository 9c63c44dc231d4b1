//! What the pure core answers, and how an answer becomes bytes on the wire (still pure: the
//! server edge only sleeps, writes or drops as `Rendered` says).

use crate::wxpay::sign::{ApiKey, SignType, sign};
use crate::wxpay::xml::{Fields, encode};
use std::time::Duration;

/// The body of a simulator answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `return_code=FAIL` with this `return_msg`; unsigned, like WeChat's protocol-level refusals.
    Fail(String),
    /// `return_code=SUCCESS` fields, signed with `sign_type` (deliberately wrong if `wrong_sign`).
    Signed {
        fields: Fields,
        sign_type: SignType,
        wrong_sign: bool,
    },
    /// An unsigned text body (downloadbill's CSV statement).
    Csv(String),
    /// Close the connection without an HTTP answer.
    Drop,
    /// HTTP 500, empty body.
    Http500,
    /// HTTP 200 with an HTML page (a proxy's error page).
    Html,
}

/// A core answer plus how long (in simulated time) to hold it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimReply {
    /// What to send.
    pub body: Body,
    /// Simulated delay before sending.
    pub delay: Duration,
}

impl SimReply {
    /// An answer sent at once.
    pub fn now(body: Body) -> Self {
        Self {
            body,
            delay: Duration::ZERO,
        }
    }

    /// A protocol-level refusal (`return_code=FAIL`).
    pub fn fail(msg: impl Into<String>) -> Self {
        Self::now(Body::Fail(msg.into()))
    }

    /// The signed fields, if this is a signed XML answer (tests and the ledger use it).
    pub fn fields(&self) -> Option<&Fields> {
        match &self.body {
            Body::Signed { fields, .. } => Some(fields),
            _ => None,
        }
    }

    /// Shorthand: the value of `name` in a signed answer.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields().and_then(|f| f.get(name))
    }
}

/// An answer ready for the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header.
    pub content_type: &'static str,
    /// Body text.
    pub body: String,
    /// Simulated delay before sending.
    pub delay: Duration,
    /// Close the connection instead of answering.
    pub drop: bool,
}

const XML: &str = "text/xml; charset=utf-8";

const HTML_PAGE: &str = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\
<body><center><h1>502 Bad Gateway</h1></center><hr><center>stgw</center></body></html>";

/// Turn an answer into status, headers and body; signs `Signed` answers with `key`.
pub fn render(reply: &SimReply, key: &ApiKey) -> Rendered {
    let (status, content_type, body, drop) = match &reply.body {
        Body::Fail(msg) => (
            200,
            XML,
            encode([("return_code", "FAIL"), ("return_msg", msg.as_str())]),
            false,
        ),
        Body::Signed {
            fields,
            sign_type,
            wrong_sign,
        } => {
            let mut s = sign(fields, key, *sign_type);
            if *wrong_sign {
                // Same length and alphabet, different value: only a real verify catches it.
                s = s.chars().rev().collect();
                if s == sign(fields, key, *sign_type) {
                    s.replace_range(..1, if s.starts_with('0') { "1" } else { "0" });
                }
            }
            let all = fields.iter().chain([("sign", s.as_str())]);
            (200, XML, encode(all), false)
        }
        Body::Csv(text) => (200, "text/plain; charset=utf-8", text.clone(), false),
        Body::Drop => (200, XML, String::new(), true),
        Body::Http500 => (500, "text/plain; charset=utf-8", String::new(), false),
        Body::Html => (
            200,
            "text/html; charset=utf-8",
            HTML_PAGE.to_string(),
            false,
        ),
    };
    Rendered {
        status,
        content_type,
        body,
        delay: reply.delay,
        drop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wxpay::sign::verify;
    use crate::wxpay::xml::decode;

    fn key() -> ApiKey {
        ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap()
    }

    fn signed(wrong_sign: bool, sign_type: SignType) -> SimReply {
        let fields: Fields = [("return_code", "SUCCESS"), ("result_code", "SUCCESS")]
            .into_iter()
            .collect();
        SimReply::now(Body::Signed {
            fields,
            sign_type,
            wrong_sign,
        })
    }

    #[test]
    fn signed_answers_verify_with_the_request_algorithm() {
        for st in [SignType::Md5, SignType::HmacSha256] {
            let r = render(&signed(false, st), &key());
            let f = decode(r.body.as_bytes()).unwrap();
            let s = f.get("sign").unwrap().to_string();
            assert!(verify(&f, &key(), st, &s));
        }
    }

    #[test]
    fn wrong_sign_does_not_verify() {
        let r = render(&signed(true, SignType::Md5), &key());
        let f = decode(r.body.as_bytes()).unwrap();
        let s = f.get("sign").unwrap().to_string();
        assert_eq!(s.len(), 32);
        assert!(!verify(&f, &key(), SignType::Md5, &s));
    }

    #[test]
    fn fail_is_unsigned_xml() {
        let r = render(&SimReply::fail("签名错误"), &key());
        let f = decode(r.body.as_bytes()).unwrap();
        assert_eq!(f.get("return_code"), Some("FAIL"));
        assert_eq!(f.get("return_msg"), Some("签名错误"));
        assert_eq!(f.get("sign"), None);
    }
}
