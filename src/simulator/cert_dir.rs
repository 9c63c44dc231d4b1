//! The directory the simulator's certificates live in (`simulate --write-certs DIR`,
//! `data/simulator-tls` for `[simulator] tls = true`). Someone who can plant a file there could
//! make paycode overwrite what a link points at, or hand it a CA of their own, so: the directory
//! must be a real one that only its owner (this user or root) can write; a file is written under
//! a fresh name (`create_new`, no link followed) and renamed into place, and a link or anything
//! but a regular file under the final name is refused; a CA is read back only from regular files
//! of this user, the key mode 600.

use super::SimError;
use crate::words::Words;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

fn io(path: &Path) -> impl Fn(std::io::Error) -> SimError + '_ {
    move |source| SimError::CertDir {
        path: path.to_path_buf(),
        source,
    }
}

fn refused(path: &Path, en: String, zh: String) -> SimError {
    SimError::CertFile {
        path: path.to_path_buf(),
        why: Words::new(en, zh),
    }
}

fn me() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Create `dir` (mode 700) if absent; refuse it if it is a link, not a directory, writable by
/// others, or owned by another user (root aside).
pub(super) fn prepare(dir: &Path) -> Result<(), SimError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    let m = std::fs::symlink_metadata(dir).map_err(io(dir))?;
    let d = dir.display();
    if m.file_type().is_symlink() {
        return Err(refused(
            dir,
            "is a symbolic link; the simulator writes its CA key only into a real directory \
             (a link could put it, or take a CA, anywhere): give the directory it points at, or \
             another one"
                .into(),
            "是符号链接;模拟器只把 CA 私钥写入真实目录(链接可能把它写到任意位置,或读入他人的 CA):\
             请改用它指向的目录或另一个目录"
                .into(),
        ));
    }
    if !m.is_dir() {
        return Err(refused(
            dir,
            "is not a directory: give a directory".into(),
            "不是目录:请指定一个目录".into(),
        ));
    }
    let mode = m.mode() & 0o7777;
    if mode & 0o002 != 0 {
        return Err(refused(
            dir,
            format!(
                "can be written by other users (mode {mode:o}), who could swap the CA paycode \
                 trusts: chmod o-w {d}, or use a private directory"
            ),
            format!(
                "其他用户可写(权限 {mode:o}),他们可以替换 paycode 信任的 CA:请执行 chmod o-w {d},\
                 或改用私有目录"
            ),
        ));
    }
    if m.uid() != me() && m.uid() != 0 {
        return Err(refused(
            dir,
            format!(
                "belongs to another user (uid {}), who could swap the CA paycode trusts: use a \
                 directory of your own",
                m.uid()
            ),
            format!(
                "属于另一个用户(uid {}),他可以替换 paycode 信任的 CA:请改用你自己的目录",
                m.uid()
            ),
        ));
    }
    Ok(())
}

/// Whether `path` holds a file to read back: `false` if absent; an error if it is a link or
/// not a regular file, belongs to another user, or (`private`) group or others can read it.
pub(super) fn reusable(path: &Path, private: bool) -> Result<bool, SimError> {
    let m = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io(path)(e)),
    };
    not_a_link(path, &m)?;
    let p = path.display();
    if m.uid() != me() {
        return Err(refused(
            path,
            format!(
                "belongs to another user (uid {}), so the CA is not reused: remove ca.pem and \
                 ca_key.pem ({p}) so a new CA is made",
                m.uid()
            ),
            format!(
                "属于另一个用户(uid {}),不会沿用该 CA:请删除 ca.pem 与 ca_key.pem({p}),以生成新的 CA",
                m.uid()
            ),
        ));
    }
    let mode = m.permissions().mode() & 0o777;
    if private && mode != 0o600 {
        return Err(refused(
            path,
            format!(
                "has mode {mode:o}, not 600: others may have read the CA key, so it is not \
                 reused: remove ca.pem and ca_key.pem so a new CA is made"
            ),
            format!(
                "权限为 {mode:o} 而非 600:CA 私钥可能已被他人读取,不会沿用:请删除 ca.pem 与 ca_key.pem,以生成新的 CA"
            ),
        ));
    }
    Ok(true)
}

/// Refuse a link or anything but a regular file at `path`.
fn not_a_link(path: &Path, m: &std::fs::Metadata) -> Result<(), SimError> {
    let p = path.display();
    if m.file_type().is_symlink() {
        return Err(refused(
            path,
            format!(
                "is a symbolic link; paycode never writes or reads certificates through one (it \
                 could overwrite the file it points at): remove it (rm {p}) and run again"
            ),
            format!(
                "是符号链接;paycode 不会通过链接读写证书(可能覆盖其指向的文件):请删除它(rm {p})后重试"
            ),
        ));
    }
    if !m.is_file() {
        return Err(refused(
            path,
            format!("is not a regular file: remove it ({p}) and run again"),
            format!("不是普通文件:请删除它({p})后重试"),
        ));
    }
    Ok(())
}

/// The text of `path`, opened without following a link.
pub(super) fn read(path: &Path) -> Result<String, SimError> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(io(path))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut f, &mut text).map_err(io(path))?;
    Ok(text)
}

/// Write `text` to `path` (mode 600 if `private`, else 644 less the umask): refused if a link or a non-file is
/// there; otherwise written to a fresh name beside it and renamed over it, so nothing a link
/// points at is ever opened for writing.
pub(super) fn write(path: &Path, text: &str, private: bool) -> Result<(), SimError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => not_a_link(path, &m)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(path)(e)),
    }
    let name = path
        .file_name()
        .map_or_else(|| "cert".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        hex::encode(rand::random::<[u8; 6]>())
    ));
    let mode = if private { 0o600 } else { 0o644 };
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        if private {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(io(path))
}
