//! The API on a Unix socket (`[api] socket`): the same routes as on TCP, for a POS on the same
//! machine that would rather not open a port. Who may call is the file's business: the socket
//! is made mode 600 (paycode's user only), and its callers count as loopback peers. A socket
//! left by a paycode that died is replaced; one another process still answers on, or any other
//! file at the path, is refused.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use tokio::net::UnixListener;

use crate::words::Words;

/// Bind `path` for the API, or say why not (the path, the problem, `[api] socket`).
pub fn bind(path: &Path) -> Result<UnixListener, Words> {
    let p = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(Words::new(
                    format!(
                        "[api] socket {p}: another process answers on it (is another paycode serving?); stop it or choose another path"
                    ),
                    format!(
                        "[api] socket {p}:已有其他进程在该套接字上服务(是否已有另一个 paycode?);请停止它或换一个路径"
                    ),
                ));
            }
            // Left by a paycode that died: nobody answers on it.
            std::fs::remove_file(path).map_err(|e| cannot(path, &e))?;
        }
        Ok(_) => {
            return Err(Words::new(
                format!(
                    "[api] socket {p}: something that is not a socket is there; remove it or choose another path"
                ),
                format!("[api] socket {p}:该路径已有非套接字的文件;请删除它或换一个路径"),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(cannot(path, &e)),
    }
    let listener = UnixListener::bind(path).map_err(|e| cannot(path, &e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| cannot(path, &e))?;
    Ok(listener)
}

fn cannot(path: &Path, e: &std::io::Error) -> Words {
    let p = path.display();
    Words::new(
        format!(
            "cannot serve on [api] socket {p}: {e}; check the directory exists and paycode's user may write it"
        ),
        format!("无法在 [api] socket {p} 上服务:{e};请确认目录存在且 paycode 用户可写"),
    )
}
