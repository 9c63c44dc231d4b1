//! Door 3: files paycode reads or writes. Secret files (API key, private key, certificate,
//! PIN) readable or writable by others, trusted files (CA, certificate, keys, .p12, PIN) others
//! can write, owned by another user or in a directory anyone can write, directories, symlinks,
//! FIFOs, devices, oversized, empty or garbage contents; a journal that is a directory, a
//! device, a FIFO or not SQLite, and one left mode 644 (tightened to 600); an unwritable log
//! directory; `backup` and `--write-certs` onto files or planted symlinks. Refused (exit 3) naming the file or key in
//! both languages, with nothing journaled or sent.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use crate::checkout_support::{Harness, Run};
use crate::checks::{all, clean_run, mark, refused, untouched};
use crate::config::set;
use crate::support::Pki;
use crate::tally::Door;
use paycode::config::SIMULATOR_DEMO_KEY;

const PIN: &str = "735102";

fn file(dir: &Path, name: &str, contents: &[u8], mode: u32) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// A named pipe `dir/name`: opening it for reading blocks until someone writes.
pub fn fifo(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let made = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", p.display());
    p
}

fn subdir(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn run_without_env_key(h: &Harness, args: &[&str]) -> Run {
    let out = h
        .command(args)
        .env_remove("PAYCODE_API_KEY")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn run(d: &mut Door) {
    let h = Harness::new();
    let base = std::fs::read_to_string(h.config_path()).unwrap();
    let f = subdir(h.dir.path(), "f");
    let pki = Pki::new();
    let key = SIMULATOR_DEMO_KEY.as_bytes();
    let key600 = file(&f, "key600", key, 0o600);
    let cert = file(&f, "cert.pem", pki.client_cert_pem.as_bytes(), 0o644);
    let tls_key = pki.client_key_pem.as_bytes();
    let pin600 = file(&f, "pin600", PIN.as_bytes(), 0o600);
    let link = |name: &str, to: &Path| {
        let p = f.join(name);
        symlink(to, &p).unwrap();
        p
    };
    let s = |p: &Path| p.display().to_string();

    // (case, section, setting, what the message names, read the API key from the file)
    let mut cases: Vec<(&str, &str, String, &str, bool)> = Vec::new();
    let mut api_key = |name, path: PathBuf| {
        let line = format!("api_key_file = \"{}\"", s(&path));
        cases.push((name, "merchant", line, "[merchant] api_key_file", true));
    };
    api_key("api key file mode 644", file(&f, "key644", key, 0o644));
    api_key("api key file mode 640", file(&f, "key640", key, 0o640));
    api_key("api key file mode 604", file(&f, "key604", key, 0o604));
    api_key("api key file mode 666", file(&f, "key666", key, 0o666));
    api_key("api key file a directory", subdir(&f, "keydir"));
    api_key("api key file empty", file(&f, "keyempty", b"", 0o600));
    api_key(
        "api key file too short",
        file(&f, "keyshort", b"short", 0o600),
    );
    api_key(
        "api key file 40 characters",
        file(&f, "keylong", &[b'k'; 40], 0o600),
    );
    api_key(
        "api key file with escapes",
        file(&f, "keyesc", b"PaycodeSimulator\x1b[2JKey-NotReal1", 0o600),
    );
    api_key(
        "api key file not utf-8",
        file(&f, "keybin", &[0xff; 32], 0o600),
    );
    api_key("api key file missing", f.join("no-such-key"));
    api_key(
        "api key file dangling symlink",
        link("keydangling", &f.join("gone")),
    );
    api_key(
        "api key file symlink to a 644 file",
        link("keylink644", &f.join("key644")),
    );
    let mut tls = |name, cert: &Path, key: &Path, names| {
        let line = format!("cert_file = \"{}\"\nkey_file = \"{}\"", s(cert), s(key));
        cases.push((name, "wechat", line, names, false));
    };
    tls(
        "private key mode 644",
        &cert,
        &file(&f, "tls644", tls_key, 0o644),
        "[wechat] key_file",
    );
    tls(
        "private key mode 660",
        &cert,
        &file(&f, "tls660", tls_key, 0o660),
        "[wechat] key_file",
    );
    tls(
        "private key garbage pem",
        &cert,
        &file(
            &f,
            "tlsgarbage",
            b"-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n",
            0o600,
        ),
        "tlsgarbage",
    );
    tls(
        "private key empty",
        &cert,
        &file(&f, "tlsempty", b"", 0o600),
        "[wechat] key_file",
    );
    tls(
        "private key a directory",
        &cert,
        &subdir(&f, "tlsdir"),
        "[wechat] key_file",
    );
    let tls600 = file(&f, "tls600", tls_key, 0o600);
    tls(
        "certificate garbage pem",
        &file(
            &f,
            "certgarbage",
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            0o644,
        ),
        &tls600,
        "certgarbage",
    );
    tls(
        "certificate empty",
        &file(&f, "certempty", b"", 0o644),
        &tls600,
        "[wechat] cert_file",
    );
    tls(
        "certificate a directory",
        &subdir(&f, "certdir"),
        &tls600,
        "[wechat] cert_file",
    );
    tls(
        "certificate is the key",
        &tls600,
        &tls600,
        "[wechat] cert_file",
    );
    let p12 = file(&f, "garbage.p12", b"this is no pkcs12", 0o600);
    cases.push((
        "p12 garbage",
        "wechat",
        format!("p12_file = \"{}\"", s(&p12)),
        "garbage.p12",
        false,
    ));
    let p12open = file(&f, "open.p12", b"this is no pkcs12", 0o644);
    cases.push((
        "p12 mode 644",
        "wechat",
        format!("p12_file = \"{}\"", s(&p12open)),
        "[wechat] p12_file",
        false,
    ));
    let mut ca = |name, path: PathBuf| {
        cases.push((
            name,
            "wechat",
            format!("ca_file = \"{}\"", s(&path)),
            "[wechat] ca_file",
            false,
        ));
    };
    ca(
        "ca file without pem",
        file(&f, "ca.txt", b"trust me", 0o644),
    );
    ca("ca file empty", file(&f, "caempty", b"", 0o644));
    ca("ca file a directory", subdir(&f, "cadir"));
    ca(
        "ca file is a private key",
        file(&f, "cakey", tls_key, 0o600),
    );
    ca(
        "ca file dangling symlink",
        link("cadangling", &f.join("gone")),
    );
    let garbage_ca = file(
        &f,
        "cagarbage",
        b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        0o644,
    );
    cases.push((
        "ca file garbage pem",
        "wechat",
        format!("ca_file = \"{}\"", s(&garbage_ca)),
        "cagarbage",
        false,
    ));
    let mut pin = |name, path: PathBuf| {
        cases.push((
            name,
            "ui",
            format!("manager_pin_file = \"{}\"", s(&path)),
            "[ui] manager_pin_file",
            false,
        ));
    };
    pin(
        "pin file mode 644",
        file(&f, "pin644", PIN.as_bytes(), 0o644),
    );
    pin(
        "pin file mode 666",
        file(&f, "pin666", PIN.as_bytes(), 0o666),
    );
    pin("pin file a directory", subdir(&f, "pindir"));
    pin("pin file empty", file(&f, "pinempty", b"", 0o600));
    pin("pin file a fifo", fifo(&f, "pinfifo"));
    pin("pin file /dev/zero", PathBuf::from("/dev/zero"));
    pin("pin file 5 KiB", {
        let mut big = PIN.as_bytes().to_vec();
        big.resize(5 * 1024, b'\n');
        file(&f, "pinbig", &big, 0o600)
    });
    pin(
        "pin file symlink to a 644 file",
        link("pinlink644", &f.join("pin644")),
    );
    // Trusted files others can change (FAULTS row 110 for config.toml): whoever can write the
    // CA, the certificate or a key, or swap it in its directory, can stand in for WeChat Pay.
    let open_dir = subdir(&f, "open");
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let pem = pki.client_cert_pem.as_bytes();
    let mut trust = |name, section, key: &str, path: &Path, names| {
        cases.push((
            name,
            section,
            format!("{key} = \"{}\"", s(path)),
            names,
            key == "api_key_file",
        ));
    };
    trust(
        "ca file mode 666",
        "wechat",
        "ca_file",
        &file(&f, "ca666.pem", pem, 0o666),
        "[wechat] ca_file",
    );
    trust(
        "ca file mode 664",
        "wechat",
        "ca_file",
        &file(&f, "ca664.pem", pem, 0o664),
        "[wechat] ca_file",
    );
    let foreign_ca = file(&f, "ca-foreign.pem", pem, 0o644);
    std::os::unix::fs::chown(&foreign_ca, Some(4242), Some(4242)).unwrap();
    trust(
        "ca file owned by another user",
        "wechat",
        "ca_file",
        &foreign_ca,
        "[wechat] ca_file",
    );
    trust(
        "ca file in a directory anyone can write",
        "wechat",
        "ca_file",
        &file(&open_dir, "ca.pem", pem, 0o644),
        "[wechat] ca_file",
    );
    trust(
        "p12 in a directory anyone can write",
        "wechat",
        "p12_file",
        &file(&open_dir, "apiclient_cert.p12", b"this is no pkcs12", 0o600),
        "[wechat] p12_file",
    );
    trust(
        "api key file in a directory anyone can write",
        "merchant",
        "api_key_file",
        &file(&open_dir, "apikey", key, 0o600),
        "[merchant] api_key_file",
    );
    trust(
        "pin file in a directory anyone can write",
        "ui",
        "manager_pin_file",
        &file(&open_dir, "pin", PIN.as_bytes(), 0o600),
        "[ui] manager_pin_file",
    );
    let open_key = file(&open_dir, "apiclient_key.pem", tls_key, 0o600);
    let open_cert = file(&open_dir, "apiclient_cert.pem", pem, 0o644);
    let line = |c: &Path, k: &Path| format!("cert_file = \"{}\"\nkey_file = \"{}\"", s(c), s(k));
    cases.push((
        "private key in a directory anyone can write",
        "wechat",
        line(&cert, &open_key),
        "[wechat] key_file",
        false,
    ));
    cases.push((
        "certificate in a directory anyone can write",
        "wechat",
        line(&open_cert, &tls600),
        "[wechat] cert_file",
        false,
    ));
    cases.push((
        "certificate mode 666",
        "wechat",
        line(&file(&f, "cert666.pem", pem, 0o666), &tls600),
        "[wechat] cert_file",
        false,
    ));
    cases.push((
        "certificate mode 664",
        "wechat",
        line(&file(&f, "cert664.pem", pem, 0o664), &tls600),
        "[wechat] cert_file",
        false,
    ));
    let jdir = subdir(&f, "jdir");
    let garbage_db = file(&f, "garbage.db", &[0x5a; 8192], 0o600);
    let mut journal = |name, path: &Path| {
        cases.push((
            name,
            "journal",
            format!("path = \"{}\"", s(path)),
            "账本",
            false,
        ));
    };
    journal("journal a directory", &jdir);
    journal("journal not sqlite", &garbage_db);
    journal("journal under a file", &key600.join("x.db"));
    journal("journal under /proc", Path::new("/proc/self/nope/x.db"));

    // A journal that is not a regular file: refused at load naming the key, nothing created.
    for (name, path) in [
        ("journal /dev/null", PathBuf::from("/dev/null")),
        ("journal a fifo", fifo(&f, "fifo.db")),
        (
            "journal a link to /dev/null",
            link("null.db", Path::new("/dev/null")),
        ),
    ] {
        cases.push((
            name,
            "journal",
            format!("path = \"{}\"", s(&path)),
            "[journal] path",
            false,
        ));
    }
    for (name, section, line, names, from_file) in &cases {
        std::fs::write(h.config_path(), set(&base, section, line)).unwrap();
        let code = h.code("normal");
        d.check(format!("file: {name}"), || {
            let before = mark(&h);
            let args = ["pay", "--amount", "1.00", "--code", &code, "--json"];
            let r = if *from_file {
                run_without_env_key(&h, &args)
            } else {
                h.run(&args)
            };
            // The journal is named 账本 in Chinese, "journal" in English.
            let en = if *names == "账本" { "journal" } else { names };
            all([
                refused(&r, en, names, &[&code, SIMULATOR_DEMO_KEY, PIN]),
                untouched(&h, &before),
            ])
        });
    }
    std::fs::write(h.config_path(), &base).unwrap();

    // config.toml others can change: whoever can, can point paycode at another "WeChat".
    std::fs::set_permissions(h.config_path(), std::fs::Permissions::from_mode(0o666)).unwrap();
    let code = h.code("normal");
    d.check("file: config writable by others", || {
        let before = mark(&h);
        let r = h.run(&["pay", "--amount", "1.00", "--code", &code, "--json"]);
        all([
            refused(&r, "config.toml", "config.toml", &[&code]),
            untouched(&h, &before),
        ])
    });
    std::fs::set_permissions(h.config_path(), std::fs::Permissions::from_mode(0o600)).unwrap();

    // An unwritable log directory: the sale goes on, the message says so in both languages.
    std::fs::write(
        h.config_path(),
        set(&base, "journal", &format!("log_dir = \"{}\"", s(&key600))),
    )
    .unwrap();
    let code = h.code("normal");
    d.check("file: log dir is a file", || {
        let (r, _) = h.pay("1.00", &code);
        if r.code != 0 {
            return Err(format!("exit {}", r.code));
        }
        let ok = r.stderr.contains("[journal] log_dir") && r.stderr.contains("无日志文件");
        if !ok {
            return Err(format!("no warning in both languages: {}", r.stderr));
        }
        clean_run(&r, &[&code])
    });
    // `check` names it (the commands go on without a log file, so only check can fail on it).
    d.check("file: log dir is a file, named by check", || {
        let r = h.run(&["check"]);
        let line = r.stdout.lines().find(|l| l.contains("[journal] log_dir"));
        match line {
            Some(l) if r.code == 1 && l.starts_with("FAIL") && l.contains("key600") => {
                clean_run(&r, &[])
            }
            _ => Err(format!("exit {}: {}", r.code, r.stdout)),
        }
    });
    std::fs::write(h.config_path(), &base).unwrap();

    // A journal an older install created 0644 (and its WAL and index): tightened to 0600 when
    // paycode opens it — the journal holds code fingerprints, amounts and order numbers.
    let held = h.journal();
    let sidecars = ["", "-wal", "-shm"].map(|ext| {
        let mut name = h.journal_path().into_os_string();
        name.push(ext);
        PathBuf::from(name)
    });
    for p in &sidecars {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let code = h.code("normal");
    d.check("file: journal mode 644 from an older install", || {
        let (r, _) = h.pay("1.00", &code);
        if r.code != 0 {
            return Err(format!("exit {}: {}", r.code, r.stderr));
        }
        for p in &sidecars {
            let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            if mode != 0o600 {
                return Err(format!("{} is mode {mode:o} after pay", p.display()));
            }
        }
        clean_run(&r, &[&code])
    });
    drop(held);

    writes(d, &h, &f);
    pins(d, &h, &base, &pin600, &f);
}

/// `backup` and `simulate --write-certs` never write through what is already there.
fn writes(d: &mut Door, h: &Harness, f: &Path) {
    let existing = file(f, "existing.db", b"keep me", 0o600);
    for (name, to) in [
        ("backup onto an existing file", existing.clone()),
        (
            "backup into a missing directory",
            f.join("no-such-dir/b.db"),
        ),
        ("backup onto a dangling symlink", {
            let l = f.join("backup-link");
            symlink(f.join("elsewhere.db"), &l).unwrap();
            l
        }),
    ] {
        d.check(format!("file: {name}"), || {
            let r = h.run(&["backup", to.to_str().unwrap(), "--json"]);
            let kept =
                std::fs::read(&existing).unwrap() == b"keep me" && !f.join("elsewhere.db").exists();
            if !kept {
                return Err("a file was overwritten or created through a link".into());
            }
            refused(&r, "", "", &[])
        });
    }
    let target = file(f, "victim.txt", b"victim", 0o644);
    let certs = subdir(f, "certs");
    symlink(&target, certs.join("apiclient_key.pem")).unwrap();
    d.check("file: --write-certs through a planted symlink", || {
        let r = h.run(&["simulate", "--write-certs", certs.to_str().unwrap()]);
        if std::fs::read(&target).unwrap() != b"victim" {
            return Err("wrote through the symlink".into());
        }
        if r.code != 3 || !r.stderr.contains("apiclient_key.pem") {
            return Err(format!("exit {}: {}", r.code, r.stderr));
        }
        clean_run(&r, &[])
    });
    let plain = file(f, "plain.txt", b"plain", 0o644);
    d.check("file: --write-certs onto a file", || {
        let r = h.run(&["simulate", "--write-certs", plain.to_str().unwrap()]);
        if std::fs::read(&plain).unwrap() != b"plain" {
            return Err("overwrote the file".into());
        }
        if r.code != 3 || !r.stderr.contains("plain.txt") {
            return Err(format!("exit {}: {}", r.code, r.stderr));
        }
        clean_run(&r, &[])
    });
}

/// `refund --pin-file` with a bad file: refused, no refund journaled or sent.
fn pins(d: &mut Door, h: &Harness, base: &str, pin600: &Path, f: &Path) {
    let (r, v) = h.pay("10.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    let line = format!("manager_pin_file = \"{}\"", pin600.display());
    std::fs::write(h.config_path(), set(base, "ui", &line)).unwrap();
    let given644 = file(f, "given644", PIN.as_bytes(), 0o644);
    let cases: Vec<(&str, PathBuf, &str)> = vec![
        ("--pin-file mode 644", given644, "600"),
        ("--pin-file missing", f.join("no-such-pin"), "no-such-pin"),
        ("--pin-file a directory", subdir(f, "givendir"), "givendir"),
        (
            "--pin-file is manager_pin_file",
            pin600.to_path_buf(),
            "manager_pin_file",
        ),
        ("--pin-file a fifo", fifo(f, "givenfifo"), "givenfifo"),
        (
            "--pin-file /dev/zero",
            PathBuf::from("/dev/zero"),
            "/dev/zero",
        ),
        (
            "--pin-file 5 KiB",
            {
                let mut big = PIN.as_bytes().to_vec();
                big.resize(5 * 1024, b'\n');
                file(f, "givenbig", &big, 0o600)
            },
            "givenbig",
        ),
    ];
    // A pin file that cannot be used is no wrong PIN: it never counts toward the lockout.
    let strikes = h.journal_path().with_file_name("pin-strikes");
    for (name, given, en) in cases {
        d.check(format!("file: {name}"), || {
            let before = mark(h);
            let r = h
                .command_wrapped(
                    &["timeout", "20"],
                    &[
                        "refund",
                        &no,
                        "--pin-file",
                        given.to_str().unwrap(),
                        "--json",
                    ],
                )
                .output()
                .unwrap();
            let r = Run {
                code: r.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&r.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&r.stderr).into_owned(),
            };
            let struck = if strikes.exists() {
                Err(format!(
                    "counted as a wrong PIN: {}",
                    std::fs::read_to_string(&strikes).unwrap_or_default()
                ))
            } else {
                Ok(())
            };
            all([refused(&r, en, "", &[PIN]), untouched(h, &before), struck])
        });
    }
    // A manager_pin_file that holds no usable PIN: refunds refused naming it.
    let good = file(f, "given600", PIN.as_bytes(), 0o600);
    for (name, contents) in [
        ("letters", &b"12ab"[..]),
        ("3 digits", b"123"),
        ("13 digits", b"1234567890123"),
        ("escapes", b"7351\x1b[2J02"),
        ("empty", b""),
    ] {
        let bad = file(
            f,
            &format!("bad-pin-{}", name.replace(' ', "-")),
            contents,
            0o600,
        );
        let line = format!("manager_pin_file = \"{}\"", bad.display());
        std::fs::write(h.config_path(), set(base, "ui", &line)).unwrap();
        d.check(format!("file: manager pin file holds {name}"), || {
            let before = mark(h);
            let r = h.run(&[
                "refund",
                &no,
                "--pin-file",
                good.to_str().unwrap(),
                "--json",
            ]);
            all([
                refused(&r, "manager_pin_file", "manager_pin_file", &[PIN]),
                untouched(h, &before),
            ])
        });
    }
    std::fs::write(h.config_path(), set(base, "ui", &line)).unwrap();
    // The strike count planted as a directory: refused, never a skipped lockout.
    let strikes = h.journal_path().with_file_name("pin-strikes");
    let _ = std::fs::remove_file(&strikes);
    std::fs::create_dir_all(&strikes).unwrap();
    d.check("file: pin-strikes a directory", || {
        let before = mark(h);
        let r = h.run(&[
            "refund",
            &no,
            "--pin-file",
            good.to_str().unwrap(),
            "--json",
        ]);
        all([
            refused(&r, "pin-strikes", "", &[PIN]),
            untouched(h, &before),
        ])
    });
    std::fs::remove_dir(&strikes).unwrap();
    std::fs::write(h.config_path(), base).unwrap();
}
