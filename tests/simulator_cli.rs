//! `paycode simulate` as a subprocess: the banner names the URL and ids, and the server it
//! announces really answers WeChat requests.
#![allow(clippy::unwrap_used)]

mod simulator_support;

use simulator_support::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Kills the child server even when an assertion fails first.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `paycode simulate` on a free port with `extra` arguments; the server and its banner.
fn launch(dir: &std::path::Path, extra: &[&str]) -> (KillOnDrop, Vec<String>) {
    let child = Command::new(env!("CARGO_BIN_EXE_paycode"))
        .arg("--config")
        .arg(dir.join("absent.toml"))
        .args(["simulate", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env_remove("PAYCODE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let banner = read_banner(&mut child);
    (child, banner)
}

/// The banner a started `paycode simulate` prints, up to its last line (read on a thread: the
/// pipe blocks).
fn read_banner(child: &mut KillOnDrop) -> Vec<String> {
    let stdout = child.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("Ctrl-C");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    })
    .join()
    .unwrap()
}

fn url_of(banner: &[String]) -> String {
    banner
        .iter()
        .find_map(|l| l.strip_prefix("base_url  "))
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn with_log_the_ledger_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ledger.log");
    let log_arg = log.to_str().unwrap();
    install_ring();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let post = |url: String, body: String| {
        let http = http.clone();
        async move {
            let r = http.post(url).body(body).send().await.unwrap();
            verified(
                &r.text().await.unwrap(),
                paycode::wxpay::sign::SignType::Md5,
            )
        }
    };
    let no = order_no("LOG");
    let (first, banner) = launch(dir.path(), &["--log", log_arg]);
    assert!(
        banner.iter().any(|l| l.contains("kept across restarts")),
        "{banner:?}"
    );
    let url = url_of(&banner);
    let paid = post(
        format!("{url}/pay/micropay"),
        signed_body(
            &micropay_pairs(&no, &code("normal"), "100"),
            paycode::wxpay::sign::SignType::Md5,
        ),
    )
    .await;
    assert_eq!(paid.get("result_code"), Some("SUCCESS"));
    drop(first);

    let (_second, banner) = launch(dir.path(), &["--log", log_arg]);
    let url = url_of(&banner);
    let q = post(
        format!("{url}/pay/orderquery"),
        signed_body(
            &[("out_trade_no", no.as_str())],
            paycode::wxpay::sign::SignType::Md5,
        ),
    )
    .await;
    assert_eq!(q.get("trade_state"), Some("SUCCESS"), "{q:?}");
    assert_eq!(q.get("transaction_id"), paid.get("transaction_id"));
}

#[tokio::test]
async fn standalone_server_prints_the_banner_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (child, banner) = launch(dir.path(), &[]);
    let text = banner.join("\n");
    assert!(text.contains("SIMULATOR — no real money"), "{text}");
    assert!(text.contains("模拟器"), "{text}");
    assert!(text.contains("mch_id    1000000001"), "{text}");
    assert!(text.contains("ledger    in memory"), "{text}");
    assert!(
        text.contains("13 0001 xxxxxxxxxxxx"),
        "scenario table shown: {text}"
    );
    let url = url_of(&banner);
    assert!(url.starts_with("http://127.0.0.1:"));

    install_ring();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let no = order_no("CLI");
    let c = code("normal");
    let r = http
        .post(format!("{url}/pay/micropay"))
        .body(signed_body(
            &micropay_pairs(&no, &c, "100"),
            paycode::wxpay::sign::SignType::Md5,
        ))
        .send()
        .await
        .unwrap();
    let f = verified(
        &r.text().await.unwrap(),
        paycode::wxpay::sign::SignType::Md5,
    );
    assert_eq!(f.get("result_code"), Some("SUCCESS"));
    drop(child);
}

#[test]
fn write_certs_alone_writes_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let out = Command::new(env!("CARGO_BIN_EXE_paycode"))
        .arg("--config")
        .arg(dir.path().join("absent.toml"))
        .arg("simulate")
        .arg("--write-certs")
        .arg(&certs)
        .output()
        .unwrap();
    assert!(out.status.success());
    for f in ["ca.pem", "apiclient_cert.pem", "apiclient_key.pem"] {
        assert!(certs.join(f).is_file(), "{f}");
    }
    assert!(String::from_utf8_lossy(&out.stdout).contains("apiclient_key.pem"));
}

#[test]
fn a_broken_config_is_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[simulator]\nauto_revoke_after = 45\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paycode"))
        .arg("--config")
        .arg(&cfg)
        .args(["simulate", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("auto_revoke_after"));
}

/// Issue 16: `simulate --listen 0.0.0.0` started without a word (and printed 127.0.0.1), and
/// anyone who reached the port could confirm a customer's password through `/__sim/*`. A
/// non-loopback address needs `--allow-remote`, the banner says where it listens, and the
/// trainer's calls answer only from this machine.
#[tokio::test]
async fn a_reachable_simulator_needs_a_flag_and_keeps_its_trainer_calls_local() {
    let dir = tempfile::tempdir().unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_paycode"))
        .arg("--config")
        .arg(dir.path().join("absent.toml"))
        .args(["simulate", "--listen", "0.0.0.0:0"])
        .env_remove("PAYCODE_CONFIG")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("--allow-remote") && err.contains("127.0.0.1"),
        "{err}"
    );

    // The address this machine would use towards a remote host (no packet is sent).
    let udp = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    udp.connect("192.0.2.1:9").unwrap();
    let own = udp.local_addr().unwrap().ip();
    let port = std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_paycode"))
            .arg("--config")
            .arg(dir.path().join("absent.toml"))
            .args([
                "simulate",
                "--listen",
                &format!("0.0.0.0:{port}"),
                "--allow-remote",
            ])
            .env_remove("PAYCODE_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let banner = read_banner(&mut child);
    assert!(
        banner
            .iter()
            .any(|l| l.contains("reachable from other machines")),
        "{banner:?}"
    );
    install_ring();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let local = http
        .get(format!("http://127.0.0.1:{port}/__sim/ledger"))
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), 200);
    if own.is_loopback() || own.is_unspecified() {
        eprintln!("no non-loopback address here: the remote refusal is not checked");
        return;
    }
    let remote = http
        .get(format!("http://{own}:{port}/__sim/ledger"))
        .send()
        .await
        .unwrap();
    assert_eq!(remote.status(), 403);
    let body = remote.text().await.unwrap();
    assert!(body.contains("only from this machine"), "{body}");
    let confirm = http
        .post(format!("http://{own}:{port}/__sim/confirm/X1"))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 403);
}

/// `paycode simulate --write-certs DIR`; exit code and stderr.
fn write_certs(dir: &std::path::Path, certs: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_paycode"))
        .arg("--config")
        .arg(dir.join("absent.toml"))
        .arg("simulate")
        .arg("--write-certs")
        .arg(certs)
        .env_remove("PAYCODE_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The security issue "trust is never widened silently": `--write-certs DIR` followed links
/// planted in DIR and overwrote what they pointed at, and reused whatever CA it found there.
/// Each planted link, a linked or shared DIR, and a CA key others could read is refused with
/// exit 3 naming the path (both languages), and the file a link points at is untouched.
#[test]
fn write_certs_refuses_planted_links_and_shared_directories() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    for name in [
        "apiclient_key.pem",
        "apiclient_cert.pem",
        "ca.pem",
        "ca_key.pem",
    ] {
        let certs = dir.path().join(format!("certs-{name}"));
        std::fs::create_dir(&certs).unwrap();
        let link = certs.join(name);
        symlink(&victim, &link).unwrap();
        let (code, err) = write_certs(dir.path(), &certs);
        assert_eq!(code, Some(3), "{name}: {err}");
        let shown = link.display().to_string();
        assert!(
            err.contains(&format!("{shown} is a symbolic link")) && err.contains("符号链接"),
            "{name}: {err}"
        );
        assert!(err.contains(&format!("rm {shown}")), "the fix: {err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    // DIR itself a link to a real directory: refused, nothing written where it points.
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let linked = dir.path().join("linked");
    symlink(&real, &linked).unwrap();
    let (code, err) = write_certs(dir.path(), &linked);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!("{} is a symbolic link", linked.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);

    // A directory anyone can write.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, err) = write_certs(dir.path(), &shared);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("mode 777") && err.contains("chmod o-w"),
        "{err}"
    );
    assert!(err.contains("其他用户可写"), "{err}");
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0);

    // A CA whose key others could read is not reused.
    let open = dir.path().join("open");
    assert_eq!(write_certs(dir.path(), &open).0, Some(0));
    let key = open.join("ca_key.pem");
    let before = std::fs::read_to_string(&key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, err) = write_certs(dir.path(), &open);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!("{} has mode 644", key.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), before);
}
