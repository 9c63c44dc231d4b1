//! Secrets and the files that hold them: the API key and the .p12 password come from the
//! environment or from files only their owner can read. The permission decision is a pure
//! function of the mode bits; reading a file is one thin function.

use super::error::Ctx;
use super::{ClientIdentity, ConfigError, SIMULATOR_DEMO_KEY};
use crate::wxpay::sign::ApiKey;
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable holding the APIv2 key.
pub const ENV_API_KEY: &str = "PAYCODE_API_KEY";
/// Environment variable holding the .p12 password.
pub const ENV_P12_PASSWORD: &str = "PAYCODE_P12_PASSWORD";

/// The secret-bearing environment variables, read once at the IO edge (masked `Debug`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretEnv {
    /// `PAYCODE_API_KEY`
    pub api_key: Option<String>,
    /// `PAYCODE_P12_PASSWORD`
    pub p12_password: Option<String>,
}

impl SecretEnv {
    /// Read `PAYCODE_API_KEY` and `PAYCODE_P12_PASSWORD` from the process environment.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        Self {
            api_key: var(ENV_API_KEY),
            p12_password: var(ENV_P12_PASSWORD),
        }
    }
}

/// Wiped when dropped, like the API key.
impl Drop for SecretEnv {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.api_key);
        zeroize::Zeroize::zeroize(&mut self.p12_password);
    }
}

impl fmt::Debug for SecretEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| if v.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("SecretEnv")
            .field("api_key", &shown(&self.api_key))
            .field("p12_password", &shown(&self.p12_password))
            .finish()
    }
}

/// A password (the .p12 one). Never printed: `Debug` shows only that it is hidden.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// A password read from its file or the environment.
    pub(crate) fn new(text: String) -> Self {
        Self(text)
    }

    /// The raw password, for the TLS loader and the office connection only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// Wiped when dropped, like the API key.
impl Drop for Password {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}

/// Where a secret came from, shown by `paycode config` instead of the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable.
    Env(&'static str),
    /// A file (mode 600).
    File(PathBuf),
    /// `SIMULATOR_DEMO_KEY` (simulator mode with no key given).
    SimulatorDemo,
    /// The mch_id, WeChat's default password for apiclient_cert.p12.
    MchId,
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "from {name}"),
            Self::File(p) => write!(f, "from {}", p.display()),
            Self::SimulatorDemo => f.write_str("built-in simulator demo key"),
            Self::MchId => f.write_str("the mch_id, WeChat's default .p12 password"),
        }
    }
}

/// A problem with a file: what is wrong and the fix.
pub(crate) type FileProblem = (String, String);

/// Refuse a secret file that group or others may read, write or execute (pure: mode bits in).
pub(crate) fn mode_problem(path: &Path, mode: u32) -> Option<FileProblem> {
    let bits = mode & 0o777;
    let how = if bits & 0o044 != 0 {
        "readable"
    } else if bits & 0o022 != 0 {
        "writable"
    } else if bits & 0o011 != 0 {
        "executable"
    } else {
        return None;
    };
    let p = path.display();
    Some((
        format!("{p} is {how} by other users (mode {bits:04o})"),
        format!("run: chmod 600 {p}"),
    ))
}

/// The same check as one sentence: `<path> is readable by other users (mode 0644); run: chmod 600 <path>`.
pub fn private_mode_problem(path: &Path, mode: u32) -> Option<String> {
    mode_problem(path, mode).map(|(problem, fix)| format!("{problem}; {fix}"))
}

/// The largest file a setting may name (a CA bundle, a certificate, a key, a .p12), and
/// config.toml itself: anything bigger is not what the setting wants.
pub(crate) const FILE_MAX: u64 = 1024 * 1024;
/// The largest PIN file (`[ui] manager_pin_file`, `--pin-file`): a PIN is 4 to 12 digits.
pub const PIN_FILE_MAX: u64 = 4 * 1024;

/// Why a file could not be read whole.
#[derive(Debug)]
pub(crate) enum ReadProblem {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// Not a regular file: what it is, in English and Chinese.
    NotRegular(&'static str, &'static str),
    /// Larger than the cap (its size when known, else `cap + 1`).
    TooLarge(u64),
}

/// What a non-regular file is, in English and Chinese.
fn kind_of(t: std::fs::FileType) -> (&'static str, &'static str) {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        ("a directory", "目录")
    } else if t.is_fifo() {
        ("a FIFO (named pipe)", "命名管道(FIFO)")
    } else if t.is_char_device() || t.is_block_device() {
        ("a device", "设备文件")
    } else if t.is_socket() {
        ("a socket", "套接字")
    } else {
        ("not a regular file", "非普通文件")
    }
}

/// Read the regular file at `path`, at most `cap` bytes, never blocking on what is not one
/// (IO edge). The type is checked before the file is opened, opened with `O_NONBLOCK` (a FIFO
/// does not wait for a writer) and checked again on the open handle, so a file swapped for a
/// FIFO or a device in between is refused too; the read stops after `cap + 1` bytes.
pub(crate) fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, ReadProblem> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let regular = |m: &std::fs::Metadata| {
        if !m.is_file() {
            let (en, zh) = kind_of(m.file_type());
            return Err(ReadProblem::NotRegular(en, zh));
        }
        if m.len() > cap {
            return Err(ReadProblem::TooLarge(m.len()));
        }
        Ok(())
    };
    regular(&std::fs::metadata(path).map_err(ReadProblem::Io)?)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(ReadProblem::Io)?;
    regular(&file.metadata().map_err(ReadProblem::Io)?)?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadProblem::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadProblem::TooLarge(cap + 1));
    }
    Ok(bytes)
}

/// Read a file named by a setting, at most `cap` bytes; a `private` one must pass
/// `mode_problem` first, and every one must be changeable only by paycode's user or root, in a
/// directory no one else can write (`trust::shared_file`). (IO edge.)
pub(crate) fn read_checked(path: &Path, private: bool, cap: u64) -> Result<Vec<u8>, FileProblem> {
    let p = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => (
            format!("{p} does not exist"),
            "create the file or correct the path (relative paths start at the config file's \
             directory)"
                .to_string(),
        ),
        _ => (
            format!("cannot open {p}: {e}"),
            "check the path and its permissions".into(),
        ),
    })?;
    if !meta.is_file() {
        let (en, zh) = kind_of(meta.file_type());
        return Err((
            format!("{p} is not a regular file ({en}) / {p} 不是普通文件({zh})"),
            "point the setting at a file / 请将该设置指向一个普通文件".into(),
        ));
    }
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        if let Some(problem) = mode_problem(path, meta.permissions().mode()) {
            return Err(problem);
        }
    }
    #[cfg(not(unix))]
    let _ = private;
    #[cfg(unix)]
    if let Some(shared) = super::trust::shared_file(path) {
        return Err(shared.refusal(path));
    }
    let bytes = read_regular(path, cap).map_err(|e| match e {
        ReadProblem::Io(e) => (
            format!("cannot read {p}: {e}"),
            "check its permissions".to_string(),
        ),
        ReadProblem::NotRegular(en, zh) => (
            format!("{p} is not a regular file ({en}) / {p} 不是普通文件({zh})"),
            "point the setting at a file / 请将该设置指向一个普通文件".into(),
        ),
        ReadProblem::TooLarge(n) => (
            format!(
                "{p} is larger than the {cap} bytes paycode reads from it ({n} bytes or more) / {p} 超过 paycode 读取的上限 {cap} 字节"
            ),
            "point the setting at the right file / 请将该设置指向正确的文件".into(),
        ),
    })?;
    if bytes.is_empty() {
        return Err((
            format!("{p} is empty"),
            "put the expected content in it".into(),
        ));
    }
    Ok(bytes)
}

/// `read_checked` for text files (key file, PEM, PIN).
pub(crate) fn read_text(path: &Path, private: bool, cap: u64) -> Result<String, FileProblem> {
    String::from_utf8(read_checked(path, private, cap)?).map_err(|_| {
        (
            format!("{} is not UTF-8 text", path.display()),
            "point the setting at a PEM or text file".into(),
        )
    })
}

/// The APIv2 key: `PAYCODE_API_KEY`, else `[merchant] api_key_file`, else (simulator mode only)
/// `SIMULATOR_DEMO_KEY`.
pub(crate) fn api_key(
    file: Option<&Path>,
    env: &SecretEnv,
    simulator: bool,
    ctx: &Ctx<'_>,
) -> Result<(ApiKey, SecretSource), ConfigError> {
    let (raw, source) = match (&env.api_key, file) {
        (Some(_), Some(_)) => {
            return Err(ctx.err(
                "merchant",
                "api_key_file",
                format!("both {ENV_API_KEY} and api_key_file are set"),
                "keep one source for the key: unset the variable or remove api_key_file",
            ));
        }
        (Some(k), None) => (
            zeroize::Zeroizing::new(k.clone()),
            SecretSource::Env(ENV_API_KEY),
        ),
        (None, Some(path)) => {
            let text = read_text(path, true, FILE_MAX)
                .map_err(|(problem, fix)| ctx.err("merchant", "api_key_file", problem, &fix))?;
            (
                zeroize::Zeroizing::new(text),
                SecretSource::File(path.to_path_buf()),
            )
        }
        (None, None) if simulator => (
            zeroize::Zeroizing::new(SIMULATOR_DEMO_KEY.to_string()),
            SecretSource::SimulatorDemo,
        ),
        (None, None) => {
            return Err(ctx.err(
                "merchant",
                "api_key_file",
                "no API key: talking to WeChat Pay needs the merchant's APIv2 key",
                "put the 32-character key in a file, chmod 600 it and set api_key_file to its \
                 path, or set PAYCODE_API_KEY",
            ));
        }
    };
    let key_name = match &source {
        SecretSource::Env(name) => format!("api key ({name})"),
        _ => "api_key_file".to_string(),
    };
    let key = ApiKey::new(&raw).map_err(|why| {
        ctx.err(
            "merchant",
            &key_name,
            format!("{why} ({source})"),
            "store only the key, on one line",
        )
    })?;
    let len = key.expose().chars().count();
    if len != 32 {
        return Err(ctx.err(
            "merchant",
            &key_name,
            format!("the API key ({source}) has {len} characters; an APIv2 key has 32"),
            "copy the whole APIv2 key set in the merchant platform (not the APIv3 key or AppSecret)",
        ));
    }
    if simulator && key.expose() != SIMULATOR_DEMO_KEY {
        // The simulator would keep the key's fingerprint in its ledger and `check` would call it
        // verified: a merchant's key belongs only with WeChat's own address.
        return Err(ctx.err(
            "merchant",
            &key_name,
            format!(
                "a merchant API key ({source}) with base_url = \"simulator\": the built-in \
                 simulator moves no money and works only with its own demo key"
            ),
            "to practise on the simulator, remove api_key_file and unset PAYCODE_API_KEY; to \
             take real payments, set [wechat] base_url to WeChat's address",
        ));
    }
    Ok((key, source))
}

/// The merchant API certificate: the PEM pair or a .p12, each checked to exist and, for key
/// material, to be private to its owner.
pub(crate) fn identity(
    cert: Option<&Path>,
    key: Option<&Path>,
    p12: Option<&Path>,
    env: &SecretEnv,
    mch_id: &str,
    ctx: &Ctx<'_>,
) -> Result<Option<ClientIdentity>, ConfigError> {
    let wechat_err = |k: &str, (problem, fix): FileProblem| ctx.err("wechat", k, problem, &fix);
    match (cert, key, p12) {
        (None, None, None) => Ok(None),
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => Err(ctx.err(
            "wechat",
            "p12_file",
            "both p12_file and the PEM pair (cert_file/key_file) are set",
            "keep one: the PEM pair apiclient_cert.pem + apiclient_key.pem is preferred",
        )),
        (Some(_), None, None) => Err(ctx.err(
            "wechat",
            "key_file",
            "cert_file is set but key_file is not",
            "set key_file to apiclient_key.pem from the same certificate download",
        )),
        (None, Some(_), None) => Err(ctx.err(
            "wechat",
            "cert_file",
            "key_file is set but cert_file is not",
            "set cert_file to apiclient_cert.pem from the same certificate download",
        )),
        (Some(cert), Some(key), None) => {
            let text = read_text(cert, false, FILE_MAX).map_err(|p| wechat_err("cert_file", p))?;
            if !text.contains("-----BEGIN CERTIFICATE-----") {
                return Err(wechat_err(
                    "cert_file",
                    (
                        format!("{} holds no PEM certificate", cert.display()),
                        "use apiclient_cert.pem (it starts with -----BEGIN CERTIFICATE-----)"
                            .into(),
                    ),
                ));
            }
            let text = read_text(key, true, FILE_MAX).map_err(|p| wechat_err("key_file", p))?;
            if !text.contains("PRIVATE KEY-----") {
                return Err(wechat_err(
                    "key_file",
                    (
                        format!("{} holds no PEM private key", key.display()),
                        "use apiclient_key.pem (it starts with -----BEGIN PRIVATE KEY-----)".into(),
                    ),
                ));
            }
            Ok(Some(ClientIdentity::Pem {
                cert_file: cert.to_path_buf(),
                key_file: key.to_path_buf(),
            }))
        }
        (None, None, Some(p12)) => {
            read_checked(p12, true, FILE_MAX).map_err(|p| wechat_err("p12_file", p))?;
            let (password, password_source) = match &env.p12_password {
                Some(pw) => (Password(pw.clone()), SecretSource::Env(ENV_P12_PASSWORD)),
                None => (Password(mch_id.to_string()), SecretSource::MchId),
            };
            if password.expose().is_empty() {
                return Err(ctx.err(
                    "wechat",
                    "p12_file",
                    format!("{ENV_P12_PASSWORD} is set but empty"),
                    "set it to the .p12 password, or unset it to use the mch_id",
                ));
            }
            Ok(Some(ClientIdentity::P12 {
                file: p12.to_path_buf(),
                password,
                password_source,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_decision_table() {
        let p = Path::new("/etc/paycode/apikey");
        let cases: [(u32, Option<&str>); 8] = [
            (0o600, None),
            (0o400, None),
            (0o100600, None),
            (0o700, None),
            (
                0o644,
                Some(
                    "/etc/paycode/apikey is readable by other users (mode 0644); run: chmod 600 /etc/paycode/apikey",
                ),
            ),
            (0o640, Some("readable by other users (mode 0640)")),
            (0o604, Some("readable by other users (mode 0604)")),
            (0o620, Some("writable by other users (mode 0620)")),
        ];
        for (mode, want) in cases {
            let got = private_mode_problem(p, mode);
            match want {
                None => assert_eq!(got, None, "mode {mode:o}"),
                Some(w) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(w)),
                    "{mode:o}: {got:?}"
                ),
            }
        }
        assert!(private_mode_problem(p, 0o610).is_some_and(|g| g.contains("executable")));
    }

    #[test]
    fn only_a_regular_file_within_the_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"1234").unwrap();
        assert_eq!(read_regular(&small, 4).unwrap(), b"1234");
        assert!(matches!(
            read_regular(&small, 3),
            Err(ReadProblem::TooLarge(4))
        ));
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        // Returns at once: nobody writes to the pipe.
        assert!(matches!(
            read_regular(&fifo, 4),
            Err(ReadProblem::NotRegular("a FIFO (named pipe)", _))
        ));
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 4),
            Err(ReadProblem::NotRegular("a device", _))
        ));
        assert!(matches!(
            read_regular(dir.path(), 4),
            Err(ReadProblem::NotRegular("a directory", _))
        ));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let env = SecretEnv {
            api_key: Some("k-very-secret".into()),
            p12_password: Some("pw-very-secret".into()),
        };
        let shown = format!("{env:?} {:?}", Password("pw-very-secret".into()));
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("<set>"));
    }
}
