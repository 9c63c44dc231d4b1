//! Door 6: TLS. A server certificate that is self-signed, for another host, expired, or from
//! a CA paycode was not told to trust; plain HTTP behind an https:// URL; the simulator's CA as
//! the trust anchor of a live host; `SSL_CERT_FILE` in the environment. The sale never reaches
//! the server and never ends paid; the output is clean.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::checkout_support::{Harness, Opts};
use crate::checks::{clean_run, shown};
use crate::support::{Behaviour, Pki, TestServer, write_file};
use crate::tally::Door;

/// `pay` against `server` trusting `ca_pem`: nothing arrives, not paid, clean output.
fn untrusted(
    d: &mut Door,
    name: &str,
    pki: &Pki,
    ca_pem: &str,
    server: impl FnOnce(&Harness) -> TestServer,
) {
    let h = Harness::new();
    let dir = h.dir.path();
    let ca = write_file(dir, "ca.pem", ca_pem, 0o644);
    let cert = write_file(dir, "client.pem", &pki.client_cert_pem, 0o644);
    let key = write_file(dir, "client_key.pem", &pki.client_key_pem, 0o600);
    let server = server(&h);
    let url = server.url().replace("http://", "https://");
    h.write_config_with(&Opts {
        base_url: Some(url),
        ca_file: Some(ca),
        identity: Some((cert, key)),
        password_timeout: "1s",
        ..Opts::default()
    });
    let code = h.code("normal");
    d.check(format!("tls: {name}"), || {
        let (r, v) = h.pay("2.00", &code);
        clean_run(&r, &[&code])?;
        if !server.seen().is_empty() {
            return Err(format!(
                "{} request(s) reached the server",
                server.seen().len()
            ));
        }
        if r.code == 0 || v["status"] == "paid" {
            return Err(format!("paid: {}", shown(&r.stdout)));
        }
        Ok(())
    });
}

/// A live-mode config (TEST-NET-1, never reached: refused at load) in its own directory.
fn live(dir: &Path, pki: &Pki, extra_wechat: &str) -> std::path::PathBuf {
    let cert = write_file(dir, "client.pem", &pki.client_cert_pem, 0o644);
    let key = write_file(dir, "client_key.pem", &pki.client_key_pem, 0o600);
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[merchant]\nappid = \"wx8888888888888888\"\nmch_id = \"1900000109\"\ndevice_info = \"till-9\"\n\
             [wechat]\nbase_url = \"https://192.0.2.1:9\"\nconnect_timeout = \"200ms\"\n\
             cert_file = \"{}\"\nkey_file = \"{}\"\n{extra_wechat}\n[journal]\npath = \"data/paycode.db\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    file
}

pub fn run(d: &mut Door) {
    let pki = Pki::new();
    let other = Pki::new();
    let https = |cfg: rustls::ServerConfig| {
        move |h: &Harness| h.rt.block_on(TestServer::https(Behaviour::ok(), cfg))
    };
    untrusted(
        d,
        "self-signed server certificate",
        &pki,
        &pki.ca_pem,
        https(pki.rogue_server_config()),
    );
    untrusted(
        d,
        "certificate for another host",
        &pki,
        &pki.ca_pem,
        https(pki.other_name_server_config()),
    );
    untrusted(
        d,
        "expired certificate",
        &pki,
        &pki.ca_pem,
        https(pki.expired_server_config()),
    );
    untrusted(
        d,
        "certificate from another CA",
        &pki,
        &other.ca_pem,
        https(pki.server_config(false)),
    );
    untrusted(
        d,
        "plain http behind https",
        &pki,
        &pki.ca_pem,
        |h: &Harness| h.rt.block_on(TestServer::http(Behaviour::ok())),
    );

    // The TLS simulator without its CA in ca_file.
    let h = Harness::with_sim(Default::default(), |s| s.tls = true);
    let (cert, key) = h.client_identity_files();
    h.write_config_with(&Opts {
        identity: Some((cert, key)),
        password_timeout: "1s",
        ..Opts::default()
    });
    let code = h.code("normal");
    d.check("tls: simulator CA not trusted", || {
        let (r, v) = h.pay("2.00", &code);
        clean_run(&r, &[&code])?;
        let sent = h.requests("micropay");
        if sent != 0 || v["status"] == "paid" {
            return Err(format!(
                "{sent} micropay(s) arrived, status {}",
                v["status"]
            ));
        }
        Ok(())
    });

    // The simulator's own CA as the trust anchor of a live host: refused at load.
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("sim-certs");
    let out = h
        .command(&["simulate", "--write-certs", certs.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let extra = format!("ca_file = \"{}\"", certs.join("ca.pem").display());
    let file = live(dir.path(), &pki, &extra);
    d.check("tls: simulator CA for a live host", || {
        let out = h
            .command(&["--config", file.to_str().unwrap(), "config"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(3) || !stderr.contains("[wechat] ca_file") {
            return Err(format!("exit {:?}: {}", out.status.code(), shown(&stderr)));
        }
        Ok(())
    });

    // SSL_CERT_FILE widens what the client trusts: `check` must say so.
    let planted = write_file(h.dir.path(), "planted-ca.pem", &other.ca_pem, 0o644);
    d.check("tls: SSL_CERT_FILE set", || {
        let out = h
            .command(&["check"])
            .env("SSL_CERT_FILE", &planted)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !stdout.contains("SSL_CERT_FILE") {
            return Err(format!("check does not mention it: {}", shown(&stdout)));
        }
        Ok(())
    });
}
