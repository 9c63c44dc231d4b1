//! Who may change a file paycode trusts — the CA it verifies WeChat Pay with, the client
//! certificate and key, the .p12, the API key file, the manager PIN file: its mode and owner,
//! and its directory's. Whoever can write one, or swap it in its directory, can stand in for
//! WeChat Pay or sign as the merchant. The decision is pure ([`problem`]); [`shared_file`] reads
//! the metadata. Config load refuses such a file (FAULTS.md row 110 is config.toml's own
//! refusal); `paycode check` names the same problems on its `trust` line (row 89).

use std::path::Path;

/// A file's or directory's mode bits and owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owned {
    /// `st_mode` (type bits included or not: only the permission bits are read).
    pub mode: u32,
    /// `st_uid`.
    pub uid: u32,
}

/// How someone else could change a trusted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shared {
    /// The file is owned by another user than paycode's or root (the uid).
    Owner(u32),
    /// Group or others may write the file (its permission bits).
    Writable(u32),
    /// Its directory may be written by anyone and is not sticky (the directory's bits).
    OpenDir(u32),
    /// Its directory is another user's and its group may write it.
    GroupDir,
}

impl Shared {
    /// One sentence in English naming `path` (the wording `paycode check` prints).
    pub(crate) fn en(self, path: &Path) -> String {
        let p = path.display();
        match self {
            Shared::Owner(uid) => format!("{p} is owned by another user (uid {uid})"),
            Shared::Writable(mode) => {
                format!("{p} can be written by group or others (mode {mode:o})")
            }
            Shared::OpenDir(mode) => {
                format!("{p} is in a directory anyone can write (mode {mode:o})")
            }
            Shared::GroupDir => format!("{p} is in a directory another user's group can write"),
        }
    }

    /// The same sentence in Simplified Chinese.
    pub(crate) fn zh(self, path: &Path) -> String {
        let p = path.display();
        match self {
            Shared::Owner(uid) => format!("{p} 属于其他用户(uid {uid})"),
            Shared::Writable(mode) => format!("{p} 可被同组或其他用户修改(权限 {mode:o})"),
            Shared::OpenDir(mode) => format!("{p} 所在目录任何人都可写入(权限 {mode:o})"),
            Shared::GroupDir => format!("{p} 所在目录属于其他用户且其用户组可写入"),
        }
    }

    /// What the refusal at load says: the problem in both languages and why it matters.
    pub(crate) fn refusal(self, path: &Path) -> (String, String) {
        let p = path.display();
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .display()
            .to_string();
        let fix = match self {
            Shared::Owner(_) => format!(
                "chown {p} to paycode's user (or root) and chmod go-w it / 请将 {p} 的属主改为 paycode 的用户(或 root),并执行 chmod go-w {p}"
            ),
            Shared::Writable(_) => format!("run: chmod go-w {p} / 请执行 chmod go-w {p}"),
            Shared::OpenDir(_) | Shared::GroupDir => format!(
                "move the file into a directory only paycode's user (or root) can write, or run: chmod go-w {dir} / 请把文件移到只有 paycode 的用户(或 root)可写的目录,或执行 chmod go-w {dir}"
            ),
        };
        (
            format!(
                "{}: whoever can change it can stand in for WeChat Pay or sign as the merchant / {}:能修改它的人就能冒充微信支付或以商户身份签名",
                self.en(path),
                self.zh(path)
            ),
            fix,
        )
    }
}

/// Why a trusted file could be changed by someone else, or `None`. Pure: `me` is the effective
/// user, `dir` the file's directory.
pub(crate) fn problem(file: Owned, dir: Option<Owned>, me: u32) -> Option<Shared> {
    if file.uid != me && file.uid != 0 {
        return Some(Shared::Owner(file.uid));
    }
    if file.mode & 0o022 != 0 {
        return Some(Shared::Writable(file.mode & 0o777));
    }
    // A directory anyone may write lets them swap the file (unless it is sticky, like /tmp).
    match dir {
        Some(d) if d.mode & 0o002 != 0 && d.mode & 0o1000 == 0 => {
            Some(Shared::OpenDir(d.mode & 0o7777))
        }
        Some(d) if d.uid != me && d.uid != 0 && d.mode & 0o020 != 0 => Some(Shared::GroupDir),
        _ => None,
    }
}

/// The owner and mode of `p` (links followed), if it can be read.
pub(crate) fn owned(p: &Path) -> Option<Owned> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| Owned {
        mode: m.mode(),
        uid: m.uid(),
    })
}

/// The directory holding `p` as written (`.` for a bare name).
fn dir_of(p: &Path) -> &Path {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// [`problem`] for the file at `path` (IO edge): its metadata, its directory's, and for a
/// symbolic link the directory of the file it leads to as well (either could be swapped).
/// `None` also when the file cannot be read: the caller's own read names that.
pub(crate) fn shared_file(path: &Path) -> Option<Shared> {
    let me = nix::unistd::geteuid().as_raw();
    let file = owned(path)?;
    let mut dirs = vec![dir_of(path).to_path_buf()];
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link && let Ok(real) = std::fs::canonicalize(path) {
        dirs.push(dir_of(&real).to_path_buf());
    }
    if let Some(p) = problem(file, None, me) {
        return Some(p);
    }
    dirs.iter().find_map(|d| problem(file, owned(d), me))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_others_can_change_or_swap_is_named() {
        let me = 1000;
        let ok = Owned {
            mode: 0o100644,
            uid: me,
        };
        let dir = Owned {
            mode: 0o40755,
            uid: 0,
        };
        assert_eq!(problem(ok, Some(dir), me), None);
        assert_eq!(problem(Owned { uid: 0, ..ok }, Some(dir), me), None);
        assert_eq!(
            problem(
                Owned {
                    mode: 0o100664,
                    ..ok
                },
                Some(dir),
                me
            ),
            Some(Shared::Writable(0o664))
        );
        assert_eq!(
            problem(Owned { uid: 4242, ..ok }, Some(dir), me),
            Some(Shared::Owner(4242))
        );
        let open = Owned {
            mode: 0o40777,
            uid: 0,
        };
        assert_eq!(problem(ok, Some(open), me), Some(Shared::OpenDir(0o777)));
        let sticky = Owned {
            mode: 0o41777,
            uid: 0,
        };
        assert_eq!(problem(ok, Some(sticky), me), None, "/tmp-like");
        let theirs = Owned {
            mode: 0o40775,
            uid: 4242,
        };
        assert_eq!(problem(ok, Some(theirs), me), Some(Shared::GroupDir));
        let p = Path::new("/etc/paycode/ca.pem");
        let (problem, fix) = Shared::OpenDir(0o777).refusal(p);
        assert!(problem.contains("/etc/paycode/ca.pem is in a directory anyone can write"));
        assert!(problem.contains("任何人都可写入"), "{problem}");
        assert!(fix.contains("chmod go-w /etc/paycode"), "{fix}");
    }
}
