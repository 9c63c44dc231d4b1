//! The API's bearer token: read from a file only paycode's user can read, compared in constant
//! time, wiped when dropped, never printed.

use std::fmt;
use std::path::Path;

use subtle::ConstantTimeEq;

use crate::words::Words;

/// The shortest token accepted (a guessable one protects nothing).
pub const MIN_LEN: usize = 16;

/// The largest token file read (a FIFO or a device is refused before it is opened).
const TOKEN_FILE_MAX: u64 = 4 * 1024;

pub struct Token(String);

impl Token {
    /// Read the token file given as `--token-file`.
    pub fn read(path: &Path) -> Result<Token, Words> {
        Self::read_as(path, "--token-file")
    }

    /// Read the token file: mode 600, one line of at least [`MIN_LEN`] printable characters.
    /// `named` is where the path came from (`--token-file`, `[api] token_file`), for messages.
    pub fn read_as(path: &Path, named: &str) -> Result<Token, Words> {
        let p = path.display();
        let text =
            crate::config::read_text(path, true, TOKEN_FILE_MAX).map_err(|(problem, fix)| {
                Words::new(
                    format!("{named}: {problem}; {fix}"),
                    format!("{named}:{problem};{fix}"),
                )
            })?;
        let t = text.trim();
        if t.len() < MIN_LEN || !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Words::new(
                format!(
                    "{named} {p}: the token must be one line of at least {MIN_LEN} printable characters without spaces; write one, e.g. `openssl rand -hex 24 > {p}`"
                ),
                format!(
                    "{named} {p}:令牌须为一行、至少 {MIN_LEN} 个可打印字符且不含空格;例如执行 `openssl rand -hex 24 > {p}`"
                ),
            ));
        }
        Ok(Token(t.to_string()))
    }

    /// The token itself, for the one header of a client's request (`paycode` handing a
    /// command to the running one); never printed.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` is the token (constant time).
    pub fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<hidden>)")
    }
}
