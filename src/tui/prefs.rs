//! The cashier's screen language chosen with F6, kept beside the journal so it outlives a
//! restart (`ui-language`: `zh` or `en`). The config's `[ui] language` is the default until then.

use crate::config::{Config, Language};
use std::path::PathBuf;

fn file(cfg: &Config) -> PathBuf {
    cfg.journal.path.with_file_name("ui-language")
}

/// The language saved by F6, if any (an unreadable or unknown file counts as none).
pub fn saved_language(cfg: &Config) -> Option<Language> {
    match std::fs::read_to_string(file(cfg)).ok()?.trim() {
        "zh" => Some(Language::Zh),
        "en" => Some(Language::En),
        _ => None,
    }
}

/// Save `lang` for the next start; a failure only means the next start uses the config's.
pub fn save_language(cfg: &Config, lang: Language) {
    if let Err(e) = std::fs::write(file(cfg), lang.as_str()) {
        tracing::warn!(error = %e, "cannot keep the screen language for the next start");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_language_wins_over_the_config_and_a_bad_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[journal]\npath = \"{}\"\n[ui]\nlanguage = \"zh\"\n",
            dir.path().join("paycode.db").display()
        );
        let env = crate::config::SecretEnv {
            api_key: None,
            p12_password: None,
        };
        let cfg =
            crate::config::from_str_with_env(&text, &dir.path().join("c.toml"), &env).unwrap();
        assert_eq!(saved_language(&cfg), None);
        save_language(&cfg, Language::En);
        assert_eq!(saved_language(&cfg), Some(Language::En));
        std::fs::write(dir.path().join("ui-language"), "klingon").unwrap();
        assert_eq!(saved_language(&cfg), None);
    }
}
