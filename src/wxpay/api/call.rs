//! One trait ties each request type to its endpoint and to the verified answer that endpoint
//! gives, so a request can only be posted where it belongs and read as what comes back from there.

use super::{
    Bill, DownloadBillRequest, Merchant, MicropayRequest, OrderQueryRequest, OrderState, Payment,
    RefundAccepted, RefundList, RefundQueryRequest, RefundRequest, Reply, ReplyError, RequestError,
    Reversal, ReverseRequest,
};
use crate::wxpay::endpoint::Endpoint;

/// A request to one WeChat Pay endpoint: where it goes, how it is encoded, how its reply is
/// verified. `wxpay::call` sends any of them.
pub trait Call {
    /// The endpoint this request is posted to.
    const ENDPOINT: Endpoint;
    /// What a verified reply turns into.
    type Answer;
    /// Validate and build the signed XML body.
    fn encode(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError>;
    /// Verify a reply body against this request.
    fn parse(&self, body: &[u8], m: &Merchant) -> Result<Self::Answer, ReplyError>;
}

impl Call for MicropayRequest {
    const ENDPOINT: Endpoint = Endpoint::Micropay;
    type Answer = Reply<Payment>;
    fn encode(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        self.to_xml(m, nonce)
    }
    fn parse(&self, body: &[u8], m: &Merchant) -> Result<Self::Answer, ReplyError> {
        super::parse_micropay(body, self, m)
    }
}

impl Call for OrderQueryRequest {
    const ENDPOINT: Endpoint = Endpoint::OrderQuery;
    type Answer = Reply<OrderState>;
    fn encode(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        self.to_xml(m, nonce)
    }
    fn parse(&self, body: &[u8], m: &Merchant) -> Result<Self::Answer, ReplyError> {
        super::parse_orderquery(body, self, m)
    }
}

impl Call for ReverseRequest {
    const ENDPOINT: Endpoint = Endpoint::Reverse;
    type Answer = Reply<Reversal>;
    fn encode(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        self.to_xml(m, nonce)
    }
    fn parse(&self, body: &[u8], m: &Merchant) -> Result<Self::Answer, ReplyError> {
        super::parse_reverse(body, self, m)
    }
}

impl Call for RefundRequest {
    const ENDPOINT: Endpoint = Endpoint::Refund;
    type Answer = Reply<RefundAccepted>;
    fn encode(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        self.to_xml(m, nonce)
    }
    fn parse(&self, body: &[u8], m: &Merchant) -> Result<Self::Answer, ReplyError> {
        super::parse_refund(body, self, m)
    }
}

impl Call for RefundQueryRequest {
    const ENDPOINT: Endpoint = Endpoint::RefundQuery;
    type Answer = Reply<RefundList>;
    fn encode(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        self.to_xml(m, nonce)
    }
    fn parse(&self, body: &[u8], m: &Merchant) -> Result<Self::Answer, ReplyError> {
        super::parse_refundquery(body, self, m)
    }
}

impl Call for DownloadBillRequest {
    const ENDPOINT: Endpoint = Endpoint::DownloadBill;
    type Answer = Bill;
    fn encode(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        self.to_xml(m, nonce)
    }
    /// The statement is unsigned CSV (a signed XML only when it fails).
    fn parse(&self, body: &[u8], _m: &Merchant) -> Result<Self::Answer, ReplyError> {
        super::parse_downloadbill(body)
    }
}
