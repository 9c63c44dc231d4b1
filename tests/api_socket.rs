//! `[api] socket` (issue 12): the local API on a Unix socket beside the TCP port — a sale and
//! its retry over the socket charged once, the socket private to paycode's user (mode 600), a
//! socket left by a killed paycode replaced on restart, and any other file at the path refused
//! naming the key. Raw HTTP/1.1 over a real socket, a real `paycode serve`.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::Path;

use checkout_support::{Harness, kill_9};
use serde_json::{Value, json};

/// One request over the socket: the status and the JSON body.
fn call(sock: &Path, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut s = UnixStream::connect(sock).unwrap();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let json = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (
        status,
        serde_json::from_str(json).unwrap_or(json!({ "raw": json })),
    )
}

fn serve(h: &Harness) -> std::process::Child {
    let mut child = h.spawn(&["serve"]);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("listening on"),
        "serve did not start: {line}"
    );
    child
}

#[test]
fn the_api_answers_on_a_private_unix_socket_and_a_stale_one_is_replaced() {
    let h = Harness::new();
    let mut text = std::fs::read_to_string(h.config_path()).unwrap();
    text.push_str("\n[api]\nlisten = \"127.0.0.1:0\"\nsocket = \"data/api.sock\"\n");
    std::fs::write(h.config_path(), text).unwrap();
    let sock = h.dir.path().join("data/api.sock");

    let mut child = serve(&h);
    let meta = std::fs::symlink_metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "only paycode's user"
    );
    let (st, v) = call(&sock, "GET", "/v1/health", None);
    assert_eq!((st, v["status"].as_str()), (200, Some("ok")), "{v}");
    let sale = json!({"amount": "4.20", "ref": "SOCK-1", "code": h.code("normal")}).to_string();
    let (st, v) = call(&sock, "POST", "/v1/sales", Some(&sale));
    assert_eq!((st, v["status"].as_str()), (200, Some("paid")), "{v}");
    let (st, again) = call(&sock, "POST", "/v1/sales", Some(&sale));
    assert_eq!(
        (st, again["existing"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(h.ledger().totals.charged, 420, "charged once");
    // The event stream counts a socket caller as this machine's own.
    let mut s = UnixStream::connect(&sock).unwrap();
    write!(s, "GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut first = String::new();
    BufReader::new(s).read_line(&mut first).unwrap();
    assert!(first.contains("200"), "{first}");

    // Killed, the socket file stays; the next start replaces it.
    kill_9(&mut child);
    assert!(sock.exists(), "kill -9 leaves the socket file behind");
    let mut child = serve(&h);
    let (st, _) = call(&sock, "GET", "/v1/health", None);
    assert_eq!(st, 200, "the stale socket was replaced");
    let _ = child.kill();
    let _ = child.wait();

    // Any other file at the path is refused, naming the key; nothing is removed.
    std::fs::remove_file(&sock).unwrap();
    std::fs::write(&sock, "keep me").unwrap();
    let r = h.run(&["serve"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("[api] socket"), "{}", r.stderr);
    assert!(
        r.stderr.contains("不是套接字") || r.stderr.contains("非套接字"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&sock).unwrap(), "keep me");
}
