//! The till's connection to WeChat Pay, built once from `[merchant]` and `[wechat]`: the signing
//! identity, the pooled client, the address sent as `spbill_create_ip`, and — with
//! `base_url = "simulator"` — the in-process simulator it points at. It needs no journal, so
//! `paycode check` can probe WeChat while the cashier screen holds the journal.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use super::till::TillError;
use crate::config::{BaseUrl, ClientIdentity, Config};
use crate::simulator::{RunningSim, SimSettings};
use crate::wxpay::api::{Call, Merchant};
use crate::wxpay::call::{Answered, CallError};
use crate::wxpay::client::{Client, ClientSettings, Identity, local_ip_towards};

/// The signing identity, the client and (simulator mode) the simulator it talks to.
pub struct Link {
    pub(super) merchant: Merchant,
    pub(super) client: Client,
    pub(super) ip: IpAddr,
    sim: Option<RunningSim>,
}

impl Link {
    /// Build the client and (simulator mode) start the in-process simulator. Sends nothing.
    pub async fn open(config: &Config) -> Result<Link, TillError> {
        let (sim, settings) = client_settings(config).await?;
        let ip = match config.merchant.spbill_create_ip {
            Some(ip) => ip,
            None => local_ip_towards(&settings.base_url).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot detect the outgoing address; spbill_create_ip = 127.0.0.1");
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            }),
        };
        let client = Client::new(settings)?;
        let c = &config.merchant;
        let merchant = Merchant {
            appid: c.appid.clone(),
            mch_id: c.mch_id.clone(),
            sub_appid: c.sub_appid.clone(),
            sub_mch_id: c.sub_mch_id.clone(),
            key: c.api_key.clone(),
            sign_type: c.sign_type,
        };
        Ok(Link {
            merchant,
            client,
            ip,
            sim,
        })
    }

    /// Send a typed request to its endpoint and verify the reply (see [`crate::wxpay::call`]).
    pub async fn call<R: Call>(&self, req: &R) -> Result<Answered<R::Answer>, CallError> {
        crate::wxpay::call::call(&self.client, &self.merchant, req).await
    }

    /// The merchant identity requests are signed with.
    pub fn merchant(&self) -> &Merchant {
        &self.merchant
    }

    /// The WeChat Pay client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The in-process simulator, when `base_url = "simulator"`.
    pub fn simulator(&self) -> Option<&RunningSim> {
        self.sim.as_ref()
    }
}

/// Client settings from `[wechat]`; in simulator mode, start it first and point at it.
async fn client_settings(
    config: &Config,
) -> Result<(Option<RunningSim>, ClientSettings), TillError> {
    let w = &config.wechat;
    let (sim, mut s) = match &w.base_url {
        BaseUrl::Url(u) => (None, ClientSettings::new(u.clone())),
        BaseUrl::Simulator => {
            let mut ss = SimSettings::from_config(config);
            let data_dir = config.journal.path.parent().unwrap_or(Path::new("."));
            // Every process on this data directory shares one simulated WeChat (store.rs), so a
            // later `query`, `refund` or `recover` sees the orders an earlier `pay` made.
            ss.store = Some(data_dir.join("simulator").join("ledger.log"));
            let mut tls_files = None;
            if ss.tls {
                let dir = data_dir.join("simulator-tls");
                let (ca, replaced) = crate::simulator::CertAuthority::write_dir(&dir, &ss.mch_id)?;
                // Said before any screen is drawn (`check`, the headless commands and the
                // cashier screen all open the link first), and kept in the log.
                if let Some(note) = replaced {
                    tracing::warn!(note = %note.en, "simulator CA replaced");
                    errln!("paycode: {}", note.en);
                    errln!("paycode:{}", note.zh);
                }
                ss.authority = Some(ca);
                tls_files = Some(dir);
            }
            let sim = crate::simulator::start(ss).await?;
            let mut s = ClientSettings::new(sim.base_url.clone());
            if let Some(dir) = tls_files {
                s.extra_root_ca = Some(dir.join("ca.pem"));
                s.identity = Some(Identity::PemPair {
                    cert: dir.join("apiclient_cert.pem"),
                    key: dir.join("apiclient_key.pem"),
                });
            }
            (Some(sim), s)
        }
    };
    s.backup_url = w.backup_url.clone();
    s.connect_timeout = w.connect_timeout;
    s.timeout = w.connect_timeout.saturating_add(w.read_timeout);
    s.max_reply_bytes = w.max_reply_bytes;
    if w.ca_file.is_some() {
        s.extra_root_ca = w.ca_file.clone();
    }
    s.identity = w.identity.as_ref().map(identity_of);
    Ok((sim, s))
}

/// The client's TLS identity for a configured one.
pub(super) fn identity_of(id: &ClientIdentity) -> Identity {
    match id {
        ClientIdentity::Pem {
            cert_file,
            key_file,
        } => Identity::PemPair {
            cert: cert_file.clone(),
            key: key_file.clone(),
        },
        ClientIdentity::P12 { file, password, .. } => Identity::Pkcs12 {
            path: file.clone(),
            password: password.expose().to_string(),
        },
    }
}
