//! wxpay::client over plain HTTP on loopback: keep-alive, timeouts, size cap, status, failover.
mod support;

use std::time::Duration;

use paycode::words::Bilingual;
use paycode::wxpay::client::{
    Client, ClientError, ClientSettings, Endpoint, HostUsed, TransportError, local_ip_towards,
};
use support::{Behaviour, Pki, SERVER_DATE, TestServer, closed_port_url, guard, write_file};

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

#[tokio::test]
async fn failover_to_backup_for_orderquery_only() {
    let backup = TestServer::http(Behaviour::ok()).await;
    let c = client_with(&closed_port_url(), |s| s.backup_url = Some(backup.url()));
    let reply = guard(c.post(Endpoint::OrderQuery, XML.into()))
        .await
        .expect("backup answers");
    assert_eq!(reply.host, HostUsed::Backup);
    assert_eq!(backup.seen().len(), 1);
    assert_eq!(backup.seen()[0].path, "/pay/orderquery");

    for ep in [Endpoint::Micropay, Endpoint::Refund] {
        let err = guard(c.post(ep, XML.into()))
            .await
            .expect_err("no failover");
        assert!(matches!(err, TransportError::Connect { .. }), "{err:?}");
    }
    assert_eq!(
        backup.seen().len(),
        1,
        "micropay/refund never go to the backup"
    );
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
