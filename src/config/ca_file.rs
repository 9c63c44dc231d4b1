//! `[wechat] ca_file`: whether it holds the paycode simulator's CA. That CA's key sits in a plain
//! directory beside it, so as a live till's trust anchor it would let whoever reads the key stand
//! in for WeChat Pay. Told by its subject (`SIMULATOR_CA_CN` / `SIMULATOR_CA_ORG`), which every
//! version of the simulator has written. Pure.

use super::{SIMULATOR_CA_CN, SIMULATOR_CA_ORG};
use x509_parser::x509::AttributeTypeAndValue;

/// True if any certificate in the PEM text `text` is the simulator CA. Blocks that do not parse
/// are skipped: the client refuses them when it loads the file.
pub(crate) fn holds_simulator_ca(text: &str) -> bool {
    let is = |a: &AttributeTypeAndValue<'_>, want: &str| a.as_str().is_ok_and(|v| v == want);
    rustls_pemfile::certs(&mut text.as_bytes())
        .filter_map(Result::ok)
        .any(|der| {
            x509_parser::parse_x509_certificate(&der).is_ok_and(|(_, c)| {
                let subject = c.subject();
                subject.iter_common_name().any(|a| is(a, SIMULATOR_CA_CN))
                    && subject.iter_organization().any(|a| is(a, SIMULATOR_CA_ORG))
            })
        })
}
