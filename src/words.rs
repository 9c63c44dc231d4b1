//! Cashier- and customer-facing text in both languages: the `Language` a screen is shown in,
//! `Words` (one text in Simplified Chinese and English), and `Bilingual`, the one way an error
//! or a result gives its Chinese wording beside its English `Display`.

use std::fmt;

/// Cashier screen language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Simplified Chinese.
    #[default]
    Zh,
    /// English.
    En,
}

impl Language {
    /// The config-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::En => "en",
        }
    }
}

/// One text in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub en: String,
    pub zh: String,
}

impl Words {
    /// Both wordings.
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Words {
        Words {
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// The wording in `lang`.
    pub fn get(&self, lang: Language) -> &str {
        match lang {
            Language::En => &self.en,
            Language::Zh => &self.zh,
        }
    }
}

impl fmt::Display for Words {
    /// The English wording (logs and `Display`-based messages stay English).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// A message with an English `Display` and a Simplified Chinese twin.
pub trait Bilingual: fmt::Display {
    /// The same message in Simplified Chinese.
    fn zh(&self) -> String;

    /// Both wordings.
    fn words(&self) -> Words {
        Words::new(self.to_string(), self.zh())
    }
}

impl Bilingual for Words {
    fn zh(&self) -> String {
        self.zh.clone()
    }

    fn words(&self) -> Words {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_each_language() {
        let w = Words::new("paid", "已支付");
        assert_eq!(w.get(Language::En), "paid");
        assert_eq!(w.get(Language::Zh), "已支付");
        assert_eq!(w.to_string(), "paid");
        assert_eq!(w.words(), w);
        assert_eq!(Language::default().as_str(), "zh");
    }
}
