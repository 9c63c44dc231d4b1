//! wxpay::client over plain HTTP on loopback: keep-alive, timeouts, size cap, status, failover.
mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use paycode::words::Bilingual;
use paycode::wxpay::client::{
    Client, ClientError, ClientSettings, Endpoint, HostUsed, STICKY_PERIOD, TransportError,
    local_ip_towards,
};
use support::{
    Behaviour, Pki, ReservedPort, SERVER_DATE, TestServer, closed_port_url, guard, write_file,
};

const XML: &str = "<xml><auth_code>134567890123456789</auth_code></xml>";

fn client(base: &str) -> Client {
    Client::new(ClientSettings::new(base)).expect("client")
}

fn client_with(base: &str, f: impl FnOnce(&mut ClientSettings)) -> Client {
    let mut s = ClientSettings::new(base);
    f(&mut s);
    Client::new(s).expect("client")
}

#[tokio::test]
async fn keep_alive_reuses_one_connection_and_sends_xml() {
    let server = TestServer::http(Behaviour::ok()).await;
    let c = client(&server.url());
    for _ in 0..5 {
        let reply = guard(c.post(Endpoint::Micropay, XML.to_string()))
            .await
            .expect("reply");
        assert_eq!(reply.status, 200);
        assert!(reply.body.starts_with(b"<xml><return_code>"));
    }
    assert_eq!(
        server.connections(),
        1,
        "all five calls share one connection"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/pay/micropay");
    assert_eq!(
        seen[0].header("content-type"),
        Some("text/xml; charset=utf-8")
    );
    assert_eq!(seen[0].body, XML.as_bytes());
}

#[tokio::test]
async fn reply_carries_date_header_and_host() {
    let server = TestServer::http(Behaviour::ok()).await;
    let reply = guard(client(&server.url()).post(Endpoint::OrderQuery, XML.into()))
        .await
        .expect("reply");
    assert_eq!(reply.server_date.as_deref(), Some(SERVER_DATE));
    assert_eq!(reply.host, HostUsed::Primary);
}

#[tokio::test]
async fn base_url_path_prefix_is_kept() {
    let server = TestServer::http(Behaviour::ok()).await;
    let c = client(&format!("{}/xdc/apiv2sandbox/", server.url()));
    guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect("reply");
    assert_eq!(server.seen()[0].path, "/xdc/apiv2sandbox/pay/micropay");
}

#[tokio::test]
async fn warm_up_opens_the_connection_the_first_sale_uses() {
    let server = TestServer::http(Behaviour::ok()).await;
    let c = client(&server.url());
    guard(c.warm_up()).await.expect("warm up");
    guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect("reply");
    assert_eq!(server.connections(), 1);
    let seen = server.seen();
    assert_eq!(seen[0].method, "HEAD");
    assert_eq!(seen[1].method, "POST");
}

#[tokio::test]
async fn silent_server_hits_the_timeout_and_may_have_the_request() {
    let server = TestServer::http(Behaviour::Stall).await;
    let c = client_with(&server.url(), |s| s.timeout = Duration::from_millis(300));
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("no reply");
    assert!(matches!(err, TransportError::Timeout { .. }), "{err:?}");
    assert!(err.maybe_delivered());
}

#[tokio::test]
async fn slow_drip_body_hits_the_whole_request_timeout() {
    // One byte every 20 ms keeps any per-read timer happy; 1000 bytes would take 20 s.
    let server = TestServer::http(Behaviour::Drip {
        total: 1000,
        every: Duration::from_millis(20),
    })
    .await;
    let c = client_with(&server.url(), |s| s.timeout = Duration::from_millis(400));
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("drip");
    assert!(matches!(err, TransportError::Timeout { .. }), "{err:?}");
    assert!(err.maybe_delivered());
}

const FIFTY_MB: u64 = 50 * 1024 * 1024;

#[tokio::test]
async fn oversize_body_without_length_stops_at_the_cap() {
    // XML replies stop at the configured cap; a day's statement (CSV) at 16 MiB.
    for (ep, cap) in [
        (Endpoint::Micropay, 65_536),
        (Endpoint::DownloadBill, paycode::wxpay::api::MAX_BILL),
    ] {
        let server = TestServer::http(Behaviour::Flood {
            total: FIFTY_MB,
            declare_length: false,
        })
        .await;
        let c = client(&server.url());
        let err = guard(c.post(ep, XML.into())).await.expect_err("too large");
        assert!(
            matches!(err, TransportError::TooLarge { limit, .. } if limit == cap),
            "{ep:?}: {err:?}"
        );
        // The client hung up: the server could only push what the socket buffers hold.
        let written = server.flood_finished().await;
        assert!(
            written < FIFTY_MB / 2,
            "{ep:?}: server wrote {written} bytes: body not abandoned"
        );
    }
}

#[tokio::test]
async fn oversize_declared_length_is_refused_before_reading() {
    let server = TestServer::http(Behaviour::Flood {
        total: FIFTY_MB,
        declare_length: true,
    })
    .await;
    let c = client(&server.url());
    let err = guard(c.post(Endpoint::DownloadBill, XML.into()))
        .await
        .expect_err("too large");
    assert!(matches!(err, TransportError::TooLarge { .. }), "{err:?}");
    assert!(server.flood_finished().await < FIFTY_MB / 2);
}

#[tokio::test]
async fn reply_exactly_at_the_cap_is_accepted() {
    let server = TestServer::http(Behaviour::Reply {
        status: 200,
        body: vec![b'x'; 1000],
    })
    .await;
    let c = client_with(&server.url(), |s| s.max_reply_bytes = 1000);
    let reply = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect("reply");
    assert_eq!(reply.body.len(), 1000);
    let c = client_with(&server.url(), |s| s.max_reply_bytes = 999);
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("one byte over");
    assert!(matches!(err, TransportError::TooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn non_2xx_keeps_status_and_a_short_excerpt() {
    let body = format!("<html>\n<body>{}</body></html>", "Bad Gateway ".repeat(30));
    let server = TestServer::http(Behaviour::Reply {
        status: 502,
        body: body.into_bytes(),
    })
    .await;
    let err = guard(client(&server.url()).post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("502");
    match &err {
        TransportError::Status {
            status, excerpt, ..
        } => {
            assert_eq!(*status, 502);
            assert!(excerpt.starts_with("<html><body>Bad Gateway"), "{excerpt}");
            assert!(excerpt.chars().count() <= 80);
        }
        other => panic!("expected Status, got {other:?}"),
    }
    assert!(err.maybe_delivered());
}

#[tokio::test]
async fn refused_connection_is_surely_not_delivered() {
    let err = guard(client(&closed_port_url()).post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("refused");
    assert!(matches!(err, TransportError::Connect { .. }), "{err:?}");
    assert!(!err.maybe_delivered());
    assert!(!err.to_string().contains("134567890123456789"));
}

#[tokio::test]
async fn dns_failure_is_a_connect_failure() {
    // `.invalid` never resolves (RFC 6761); a resolver that hangs instead hits connect_timeout,
    // which reqwest applies to name resolution too: a Connect either way.
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = write_file(dir.path(), "ca.pem", &pki.ca_pem, 0o644);
    let c = client_with("https://paycode-no-such-host.invalid", |s| {
        s.extra_root_ca = Some(ca);
        s.connect_timeout = Duration::from_secs(2);
        s.timeout = Duration::from_secs(30);
    });
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("no such host");
    assert!(matches!(err, TransportError::Connect { .. }), "{err:?}");
    assert!(!err.maybe_delivered());
}

#[tokio::test]
async fn connect_timeout_is_a_connect_failure() {
    // A listener whose accept queue is full drops new SYNs, so the next connect hangs.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    let _listener = socket.listen(0).expect("listen");
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let s = tokio::net::TcpSocket::new_v4().expect("socket");
        if let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_millis(200), s.connect(addr)).await
        {
            fillers.push(stream);
        }
    }
    let c = client_with(&format!("http://{addr}"), |s| {
        s.connect_timeout = Duration::from_millis(200);
        s.timeout = Duration::from_secs(30);
    });
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("hangs");
    assert!(matches!(err, TransportError::Connect { .. }), "{err:?}");
    assert!(!err.maybe_delivered());
}

/// The moment injected time starts from (the client never reads it; only `post_at` gets it).
#[allow(clippy::disallowed_methods)] // one real reading; every later moment is this plus a span
fn t0() -> Instant {
    Instant::now()
}

/// Micropay and refund move money: a second try on the other host is safe only when the first
/// surely never left this machine.
const MONEY: [Endpoint; 2] = [Endpoint::Micropay, Endpoint::Refund];

#[tokio::test]
async fn every_call_goes_to_the_backup_when_the_primary_refuses_the_connection() {
    // A refused connection proves nothing was sent, so even micropay and refund may fail over.
    for ep in Endpoint::ALL {
        let backup = TestServer::http(Behaviour::ok()).await;
        let c = client_with(&closed_port_url(), |s| s.backup_url = Some(backup.url()));
        let reply = guard(c.post(ep, XML.into()))
            .await
            .unwrap_or_else(|e| panic!("{ep:?}: backup should answer: {e:?}"));
        assert_eq!(reply.host, HostUsed::Backup, "{ep:?}");
        let seen = backup.seen();
        assert_eq!(seen.len(), 1, "{ep:?}");
        assert_eq!(seen[0].path, ep.path());
        assert_eq!(seen[0].body, XML.as_bytes(), "the same request, unchanged");
    }
}

/// Every log line of this test process from the first call on. A process-wide subscriber: a
/// thread-scoped one misses lines whose callsites another test thread registered first.
fn captured_logs() -> String {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(buf.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        buf
    });
    String::from_utf8_lossy(&buf.lock().expect("lock")).into_owned()
}

#[tokio::test]
async fn a_failover_is_logged_with_its_endpoint_reason_and_hosts_never_the_request() {
    captured_logs();
    let backup = TestServer::http(Behaviour::ok()).await;
    let primary = closed_port_url();
    let c = client_with(&primary, |s| s.backup_url = Some(backup.url()));
    guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect("backup answers");
    // Other tests log too: this test's lines name its hosts' ports.
    let to = backup.addr.to_string();
    let from = primary.trim_start_matches("http://");
    let text = captured_logs();
    let line = text
        .lines()
        .find(|l| l.contains("failing over to the other host") && l.contains(&to))
        .unwrap_or_else(|| panic!("no failover line toward {to} in:\n{text}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("/pay/micropay"), "{line}");
    assert!(line.contains("the request was not sent"), "{line}");
    assert!(
        text.lines()
            .any(|l| l.contains(" reply ") && l.contains(&to) && l.contains("backup")),
        "no reply line naming the backup {to} in:\n{text}"
    );
    assert!(
        !text.contains("134567890123456789"),
        "a payment code in the log:\n{text}"
    );
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(&to) || l.contains(from))
        .collect();
    assert!(ours.len() >= 3, "{ours:#?}");
    assert!(
        ours.iter().all(|l| !l.contains("<xml>")),
        "a body in the log: {ours:#?}"
    );
}

#[tokio::test]
async fn micropay_and_refund_stay_on_a_primary_that_may_have_the_request() {
    // The primary accepted the connection and read the request, then: no reply before the
    // timeout, an HTTP error status, or a broken reply. WeChat may have acted on it, so a
    // resend elsewhere could charge twice; the caller's query or reverse settles it.
    let primaries = [
        Behaviour::Stall,
        Behaviour::Reply {
            status: 502,
            body: b"Bad Gateway".to_vec(),
        },
        Behaviour::Garbage,
    ];
    for b in primaries {
        for ep in MONEY {
            let primary = TestServer::http(b.clone()).await;
            let backup = TestServer::http(Behaviour::ok()).await;
            let c = client_with(&primary.url(), |s| {
                s.backup_url = Some(backup.url());
                s.timeout = Duration::from_millis(300);
            });
            let err = guard(c.post(ep, XML.into()))
                .await
                .expect_err("no reply and no failover");
            assert!(err.maybe_delivered(), "{ep:?} {b:?}: {err:?}");
            assert!(err.zh().contains("可能") || matches!(err, TransportError::Status { .. }));
            assert_eq!(primary.seen().len(), 1, "{ep:?} {b:?}: the primary had it");
            assert!(
                backup.seen().is_empty(),
                "{ep:?} {b:?}: must not be resent to the backup"
            );
        }
    }
}

#[tokio::test]
async fn micropay_goes_to_the_backup_when_the_primary_tls_handshake_fails() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = write_file(dir.path(), "ca.pem", &pki.ca_pem, 0o644);
    // Untrusted certificate: this side aborts the handshake before the request is written.
    let primary = TestServer::https(Behaviour::ok(), pki.rogue_server_config()).await;
    let backup = TestServer::http(Behaviour::ok()).await;
    let c = client_with(&primary.url(), |s| {
        s.backup_url = Some(backup.url());
        s.extra_root_ca = Some(ca.clone());
    });
    let reply = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect("backup answers");
    assert_eq!(reply.host, HostUsed::Backup);
    assert!(primary.seen().is_empty());
    assert_eq!(backup.seen().len(), 1);

    // A TLS error after the handshake, once the primary has read the request, is no proof.
    let primary = TestServer::https(Behaviour::Garbage, pki.server_config(false)).await;
    let backup = TestServer::http(Behaviour::ok()).await;
    let c = client_with(&primary.url(), |s| {
        s.backup_url = Some(backup.url());
        s.extra_root_ca = Some(ca);
    });
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("no failover");
    assert!(err.maybe_delivered(), "{err:?}");
    assert_eq!(primary.seen().len(), 1);
    assert!(backup.seen().is_empty(), "never resent to the backup");
}

#[tokio::test]
async fn after_a_failover_the_backup_goes_first_for_the_sticky_period() {
    let primary = ReservedPort::new();
    let backup = TestServer::http(Behaviour::ok()).await;
    let c = client_with(&primary.url(), |s| s.backup_url = Some(backup.url()));
    let start = t0();
    let reply = guard(c.post_at(Endpoint::Micropay, XML.into(), start))
        .await
        .expect("backup answers");
    assert_eq!(reply.host, HostUsed::Backup);

    // The primary is back, but within the period the backup is asked first.
    let primary = primary.listen(Behaviour::ok());
    let just_before = start + STICKY_PERIOD - Duration::from_secs(1);
    for ep in [Endpoint::Micropay, Endpoint::OrderQuery] {
        let reply = guard(c.post_at(ep, XML.into(), just_before))
            .await
            .expect("backup answers");
        assert_eq!(reply.host, HostUsed::Backup, "{ep:?}");
    }
    assert_eq!(primary.connections(), 0, "the primary sees nothing");
    assert_eq!(backup.seen().len(), 3);

    // Once the period is over the primary is tried first again.
    let reply = guard(c.post_at(Endpoint::Micropay, XML.into(), start + STICKY_PERIOD))
        .await
        .expect("primary answers");
    assert_eq!(reply.host, HostUsed::Primary);
    assert_eq!(primary.seen().len(), 1);
    assert_eq!(backup.seen().len(), 3);
}

#[tokio::test]
async fn while_the_backup_is_preferred_a_micropay_it_never_got_goes_to_the_primary() {
    let primary = ReservedPort::new();
    // One answer, then the connection closes: nothing stays pooled toward the backup.
    let backup = TestServer::http(Behaviour::ReplyThenClose {
        status: 200,
        body: b"<xml></xml>".to_vec(),
    })
    .await;
    let c = client_with(&primary.url(), |s| s.backup_url = Some(backup.url()));
    let start = t0();
    let reply = guard(c.post_at(Endpoint::Micropay, XML.into(), start))
        .await
        .expect("backup answers");
    assert_eq!(reply.host, HostUsed::Backup);

    // Now the backup is down and the primary up: the backup refuses, so the primary gets it.
    let primary = primary.listen(Behaviour::ok());
    backup.stop().await;
    let reply = guard(c.post_at(
        Endpoint::Micropay,
        XML.into(),
        start + Duration::from_secs(1),
    ))
    .await
    .expect("primary answers");
    assert_eq!(reply.host, HostUsed::Primary);
    // The primary answered after the backup failed: it is first again at once.
    let reply = guard(c.post_at(
        Endpoint::Micropay,
        XML.into(),
        start + Duration::from_secs(2),
    ))
    .await
    .expect("primary answers");
    assert_eq!(reply.host, HostUsed::Primary);
    assert_eq!(primary.seen().len(), 2);
}

#[tokio::test]
async fn while_the_backup_is_preferred_a_micropay_it_may_have_stays_there() {
    let primary = ReservedPort::new();
    // First connection: one answer, then closed. Every later connection: read and stall.
    let backup = TestServer::http(Behaviour::PerConnection(vec![
        Behaviour::ReplyThenClose {
            status: 200,
            body: b"<xml></xml>".to_vec(),
        },
        Behaviour::Stall,
    ]))
    .await;
    let c = client_with(&primary.url(), |s| {
        s.backup_url = Some(backup.url());
        s.timeout = Duration::from_millis(300);
    });
    let start = t0();
    let reply = guard(c.post_at(Endpoint::Micropay, XML.into(), start))
        .await
        .expect("backup answers");
    assert_eq!(reply.host, HostUsed::Backup);

    let primary = primary.listen(Behaviour::ok());
    for ep in MONEY {
        let err = guard(c.post_at(ep, XML.into(), start + Duration::from_secs(1)))
            .await
            .expect_err("backup stalls");
        assert!(matches!(err, TransportError::Timeout { .. }), "{err:?}");
        assert!(err.maybe_delivered());
    }
    assert_eq!(backup.seen().len(), 3, "the backup had both");
    assert_eq!(primary.connections(), 0, "never resent to the primary");

    // An idempotent query may be repeated: it falls back to the primary on the timeout.
    let reply = guard(c.post_at(
        Endpoint::OrderQuery,
        XML.into(),
        start + Duration::from_secs(2),
    ))
    .await
    .expect("primary answers");
    assert_eq!(reply.host, HostUsed::Primary);
}

#[tokio::test]
async fn failover_on_primary_timeout_keeps_maybe_delivered_when_backup_fails() {
    let primary = TestServer::http(Behaviour::Stall).await;
    let backup = TestServer::http(Behaviour::ok()).await;
    let c = client_with(&primary.url(), |s| {
        s.backup_url = Some(backup.url());
        s.timeout = Duration::from_millis(300);
    });
    let reply = guard(c.post(Endpoint::Reverse, XML.into()))
        .await
        .expect("backup answers");
    assert_eq!(reply.host, HostUsed::Backup);

    // Primary timed out (maybe delivered), backup refused: the error must still admit delivery.
    let c = client_with(&primary.url(), |s| {
        s.backup_url = Some(closed_port_url());
        s.timeout = Duration::from_millis(300);
    });
    let err = guard(c.post(Endpoint::OrderQuery, XML.into()))
        .await
        .expect_err("both fail");
    assert!(err.maybe_delivered(), "{err:?}");
}

#[tokio::test]
async fn the_statement_fails_over_on_a_primary_timeout_like_the_queries() {
    // A statement download changes nothing at WeChat: repeating it elsewhere is harmless.
    let primary = TestServer::http(Behaviour::Stall).await;
    let backup = TestServer::http(Behaviour::ok()).await;
    let c = client_with(&primary.url(), |s| {
        s.backup_url = Some(backup.url());
        s.timeout = Duration::from_millis(300);
    });
    let reply = guard(c.post(Endpoint::DownloadBill, XML.into()))
        .await
        .expect("backup answers");
    assert_eq!(reply.host, HostUsed::Backup);
    assert_eq!(backup.seen()[0].path, "/pay/downloadbill");
}

#[test]
fn plain_http_only_to_loopback() {
    for url in ["http://api.mch.weixin.qq.com", "http://10.1.2.3:8080"] {
        let err = Client::new(ClientSettings::new(url)).expect_err(url);
        assert!(matches!(err, ClientError::PlainHttp { .. }), "{err:?}");
        assert!(err.to_string().contains("use https://"), "{err}");
        assert!(err.zh().contains("https://"));
    }
    let mut s = ClientSettings::new("http://127.0.0.1:8080");
    s.backup_url = Some("http://api2.mch.weixin.qq.com".into());
    let err = Client::new(s).expect_err("backup");
    assert!(err.to_string().contains("backup_url"), "{err}");
    for ok in ["http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"] {
        Client::new(ClientSettings::new(ok)).expect(ok);
    }
}

#[test]
fn local_ip_towards_loopback_is_loopback() {
    let ip = local_ip_towards("http://127.0.0.1:9").expect("route");
    assert!(ip.is_loopback(), "{ip}");
    assert!(local_ip_towards("not a url").is_err());
}
