//! The words of the hosted pages, one catalog per language (`templates/i18n/<lang>.toml`, built
//! into the binary), and the choice of a catalog from `Accept-Language`.
//!
//! A catalog is TOML whose tables nest the keys (`[login] title = "…"` is `login.title`).
//! Placeholders are `{name}`; a key that counts has `.one` / `.other` variants. The sections
//! `js`, `error`, `dom` and `names` go to the page's scripts as a JSON data block (templates may
//! use them too, where a script rewrites what the template printed); the rest is the
//! templates' alone. Every shipped catalog has exactly the keys and placeholders of English, which a
//! test checks.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The shipped languages, English first (the reference the others are checked against).
const SHIPPED: &[(&str, &str, &str)] = &[
    ("en", "English", include_str!("../templates/i18n/en.toml")),
    ("de", "Deutsch", include_str!("../templates/i18n/de.toml")),
];

/// Sections the page scripts read (through `Passkeys.t`).
const SCRIPT_SECTIONS: &[&str] = &["js", "error", "dom", "names"];

pub struct Catalog {
    lang: &'static str,
    name: &'static str,
    strings: BTreeMap<String, String>,
    /// The script sections as JSON, safe inside `<script type="application/json">`.
    script_json: String,
}

impl Catalog {
    pub(crate) fn parse(
        lang: &'static str,
        name: &'static str,
        text: &str,
    ) -> Result<Catalog, String> {
        let table: toml::Table = text.parse().map_err(|e| format!("catalog {lang}: {e}"))?;
        let mut strings = BTreeMap::new();
        flatten("", &toml::Value::Table(table), &mut strings)
            .map_err(|key| format!("catalog {lang}: {key} is not a string"))?;
        let scripts: BTreeMap<&str, &str> = strings
            .iter()
            .filter(|(k, _)| {
                SCRIPT_SECTIONS
                    .iter()
                    .any(|s| k.strip_prefix(s).is_some_and(|rest| rest.starts_with('.')))
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let script_json = serde_json::to_string(&scripts)
            .map_err(|e| format!("catalog {lang}: {e}"))?
            // `</script>` or `<!--` inside a string must not end the data block.
            .replace('<', "\\u003c");
        Ok(Catalog {
            lang,
            name,
            strings,
            script_json,
        })
    }

    /// The BCP 47 tag of this catalog (`<html lang>`, `Content-Language`).
    pub fn lang(&self) -> &'static str {
        self.lang
    }

    /// The language's own name for itself.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The string for `key`; a missing key shows as itself, which the tests look for.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map_or(key, String::as_str)
    }

    /// The string for `key` with its placeholders filled from `args` (`{name}` → value).
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        fill(self.t(key), args)
    }

    /// `key.one` or `key.other` for `count` (English and German plural rules), with `{count}`
    /// and `args` filled in.
    pub fn n(&self, key: &str, count: i64, args: &[(&str, &str)]) -> String {
        let form = if count == 1 { "one" } else { "other" };
        let count_text = count.to_string();
        let mut all = vec![("count", count_text.as_str())];
        all.extend_from_slice(args);
        fill(self.t(&format!("{key}.{form}")), &all)
    }

    /// The scripts' strings, as a JSON object for the page's `#i18n` data block.
    pub fn script_json(&self) -> &str {
        &self.script_json
    }

    /// This catalog with every string wrapped in ⟦…⟧: a page rendered with it shows at once
    /// any text that does not come from the catalog.
    #[cfg(test)]
    pub(crate) fn marked(&self) -> Catalog {
        Catalog {
            lang: self.lang,
            name: self.name,
            strings: self
                .strings
                .iter()
                .map(|(k, v)| (k.clone(), format!("⟦{v}⟧")))
                .collect(),
            script_json: self.script_json.clone(),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.strings.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

fn flatten(
    prefix: &str,
    value: &toml::Value,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out)?;
            }
            Ok(())
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
            Ok(())
        }
        _ => Err(prefix.to_string()),
    }
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The placeholders a string uses, in order of first use (the tests compare catalogs by them).
#[cfg(test)]
fn placeholders(s: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !found.contains(&name)
        {
            found.push(name);
        }
        rest = &after[close + 1..];
    }
    found
}

/// Every shipped catalog, parsed once.
pub fn catalogs() -> &'static [Catalog] {
    static ALL: OnceLock<Vec<Catalog>> = OnceLock::new();
    ALL.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|(lang, name, text)| {
                Catalog::parse(lang, name, text).unwrap_or_else(|e| {
                    // A catalog is part of the source: the unit tests parse every one.
                    tracing::error!("{e}");
                    Catalog {
                        lang,
                        name,
                        strings: BTreeMap::new(),
                        script_json: "{}".to_string(),
                    }
                })
            })
            .collect()
    })
}

/// The tags of the shipped languages.
pub fn shipped() -> impl Iterator<Item = &'static str> {
    SHIPPED.iter().map(|(lang, _, _)| *lang)
}

/// The catalog for a language tag, if it ships.
pub fn catalog(lang: &str) -> Option<&'static Catalog> {
    catalogs()
        .iter()
        .find(|c| c.lang.eq_ignore_ascii_case(lang))
}

/// The catalog for a request: the best `Accept-Language` match among the shipped catalogs
/// (RFC 9110 §12.5.4 weights; `de-AT` matches `de`), else `default`.
#[expect(
    clippy::expect_used,
    reason = "SHIPPED is a non-empty constant, so there is always a first catalog"
)]
pub fn choose(accept_language: Option<&str>, default: &str) -> &'static Catalog {
    let fallback = || {
        catalog(default)
            .or_else(|| catalogs().first())
            .expect("at least one catalog ships")
    };
    let Some(header) = accept_language else {
        return fallback();
    };
    let mut best: Option<(u16, usize, &'static Catalog)> = None;
    for (position, item) in header.split(',').enumerate().take(32) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let weight = parts
            .find_map(|p| {
                let (k, v) = p.split_once('=')?;
                (k.trim().eq_ignore_ascii_case("q")).then(|| quality(v.trim()))
            })
            .unwrap_or(Some(1000));
        let Some(weight) = weight.filter(|w| *w > 0) else {
            continue;
        };
        let primary = tag.split('-').next().unwrap_or("");
        let Some(found) = catalog(primary) else {
            continue;
        };
        // Higher weight wins; at equal weight, the earlier item.
        if best.is_none_or(|(w, p, _)| weight > w || (weight == w && position < p)) {
            best = Some((weight, position, found));
        }
    }
    best.map_or_else(fallback, |(_, _, c)| c)
}

/// An RFC 9110 qvalue as thousandths; `None` if it does not parse.
fn quality(v: &str) -> Option<u16> {
    let value: f32 = v.parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english() -> &'static Catalog {
        catalog("en").expect("english")
    }

    #[test]
    fn every_catalog_parses_and_has_exactly_the_english_keys_and_placeholders() {
        for (lang, name, text) in SHIPPED {
            let parsed = Catalog::parse(lang, name, text).expect("parses");
            assert!(!parsed.strings.is_empty(), "{lang} is empty");
            for (key, value) in english().keys() {
                let other = parsed
                    .strings
                    .get(key)
                    .unwrap_or_else(|| panic!("{lang} has no {key}"));
                let mut want = placeholders(value);
                let mut got = placeholders(other);
                want.sort_unstable();
                got.sort_unstable();
                assert_eq!(want, got, "{lang} {key}: placeholders differ");
                assert!(!other.trim().is_empty(), "{lang} {key} is empty");
            }
            for key in parsed.strings.keys() {
                assert!(
                    english().strings.contains_key(key),
                    "{lang} has {key}, which English has not"
                );
            }
        }
    }

    #[test]
    fn a_translation_is_not_english_left_in_place() {
        // A string a translator forgot is usually the English one, copied. Short words that
        // are the same in both languages (names, "Passkey", "OK") are allowed.
        for catalog in catalogs().iter().filter(|c| c.lang != "en") {
            let same: Vec<&str> = english()
                .keys()
                .filter(|(k, v)| v.split_whitespace().count() > 2 && catalog.t(k) == *v)
                .map(|(k, _)| k)
                .collect();
            assert!(same.is_empty(), "{}: untranslated {same:?}", catalog.lang);
        }
    }

    #[test]
    fn the_script_data_cannot_end_its_script_element() {
        for c in catalogs() {
            assert!(!c.script_json().contains('<'), "{}", c.lang);
            let back: BTreeMap<String, String> =
                serde_json::from_str(c.script_json()).expect("json");
            assert!(back.keys().all(|k| SCRIPT_SECTIONS
                .iter()
                .any(|s| k.strip_prefix(s).is_some_and(|rest| rest.starts_with('.')))));
            assert!(!back.is_empty());
        }
    }

    #[test]
    fn accept_language_picks_the_best_shipped_language() {
        let pick = |h: Option<&str>, d: &str| choose(h, d).lang();
        assert_eq!(pick(None, "en"), "en");
        assert_eq!(pick(None, "de"), "de");
        assert_eq!(pick(Some("de-DE,de;q=0.9,en;q=0.8"), "en"), "de");
        assert_eq!(pick(Some("de-AT"), "en"), "de");
        assert_eq!(pick(Some("fr-FR,fr;q=0.9,de;q=0.5,en;q=0.4"), "en"), "de");
        assert_eq!(pick(Some("fr-FR,en;q=0.5,de;q=0.6"), "en"), "de");
        assert_eq!(pick(Some("en-GB,en;q=0.9"), "de"), "en");
        assert_eq!(pick(Some("fr,it"), "de"), "de");
        assert_eq!(pick(Some("de;q=0,en;q=0.1"), "de"), "en");
        assert_eq!(pick(Some("*"), "de"), "de");
        assert_eq!(pick(Some("DE"), "en"), "de");
        assert_eq!(pick(Some("en;q=0.5,de;q=0.5"), "de"), "en");
        assert_eq!(pick(Some("de;q=abc,en"), "de"), "en");
        assert_eq!(pick(Some(";;,,=,q=1"), "en"), "en");
    }

    #[test]
    fn placeholders_are_filled_and_counted() {
        assert_eq!(placeholders("a {x} b {y} {x} {not a name}"), vec!["x", "y"]);
        assert_eq!(fill("Hello {name}!", &[("name", "Ada")]), "Hello Ada!");
        let en = english();
        assert!(en.n("js.account.codes_count", 1, &[]).contains('1'));
        assert_ne!(
            en.n("js.account.codes_count", 1, &[]),
            en.n("js.account.codes_count", 2, &[]).replace('2', "1")
        );
    }
}
