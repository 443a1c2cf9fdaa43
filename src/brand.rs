//! `[ui]`: the operator's brand on the hosted pages and their default language. Everything is
//! checked (and the logo read) once, at start.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::config::{bad, Section, SettingsError};

/// What the pages show of the operator.
#[derive(Debug, Clone, Default)]
pub struct UiSettings {
    /// The name in the header and the titles (`ui.product_name`; the loader puts
    /// `server.rp_name` where it is empty).
    pub product_name: String,
    pub logo: Option<Logo>,
    /// `/static/brand.css`: the accent colour for light and dark pages, when one is set.
    pub brand_css: Option<String>,
    /// Where a person gets help (https or mailto), shown in the footer and on error pages.
    pub support_url: Option<String>,
    /// The language of a page when `Accept-Language` names none that ships.
    pub default_language: String,
}

#[derive(Debug, Clone)]
pub struct Logo {
    /// `logo.svg` or `logo.png`, under `/static/`.
    pub file: &'static str,
    pub content_type: &'static str,
    /// Read once at start, shared by every response that serves it.
    pub bytes: Arc<[u8]>,
}

/// Largest logo accepted: it is served from memory on every page view.
const LOGO_MAX_BYTES: u64 = 256 * 1024;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiRaw {
    product_name: String,
    logo_file: String,
    accent_color: String,
    support_url: String,
    default_language: String,
}

impl Default for UiRaw {
    fn default() -> Self {
        UiRaw {
            product_name: String::new(),
            logo_file: String::new(),
            accent_color: String::new(),
            support_url: String::new(),
            default_language: "en".into(),
        }
    }
}

impl Section for UiSettings {
    const NAME: &'static str = "ui";
    type Raw = UiRaw;

    fn check(raw: UiRaw) -> Result<UiSettings, SettingsError> {
        ui(&raw)
    }
}

impl UiSettings {
    /// With `name` where no product name was set.
    pub fn named_by_default(mut self, name: &str) -> UiSettings {
        if self.product_name.is_empty() {
            self.product_name = name.to_string();
        }
        self
    }
}

fn ui(raw: &UiRaw) -> Result<UiSettings, SettingsError> {
    let product_name = raw.product_name.trim();
    if product_name.chars().count() > 64 || product_name.chars().any(char::is_control) {
        return Err(bad(
            "ui.product_name",
            "must be at most 64 characters, without control characters",
        ));
    }
    let default_language = raw.default_language.trim().to_ascii_lowercase();
    if crate::i18n::catalog(&default_language).is_none() {
        let shipped: Vec<&str> = crate::i18n::shipped().collect();
        return Err(bad(
            "ui.default_language",
            format!(
                "'{default_language}' is not a shipped language (one of {})",
                shipped.join(", ")
            ),
        ));
    }
    Ok(UiSettings {
        product_name: product_name.to_string(),
        logo: match raw.logo_file.trim() {
            "" => None,
            path => Some(logo(Path::new(path))?),
        },
        brand_css: match raw.accent_color.trim() {
            "" => None,
            color => Some(brand_css(color)?),
        },
        support_url: match raw.support_url.trim() {
            "" => None,
            url => Some(support_url(url)?),
        },
        default_language,
    })
}

fn logo(path: &Path) -> Result<Logo, SettingsError> {
    let setting = "ui.logo_file";
    let size = std::fs::metadata(path)
        .map_err(|e| bad(setting, format!("cannot read {}: {e}", path.display())))?
        .len();
    if size > LOGO_MAX_BYTES {
        return Err(bad(
            setting,
            format!("{} is {size} bytes; the limit is 256 KiB", path.display()),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| bad(setting, format!("cannot read {}: {e}", path.display())))?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("png") => {
            if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
                return Err(bad(
                    setting,
                    format!("{} is not a PNG image", path.display()),
                ));
            }
            Ok(Logo {
                file: "logo.png",
                content_type: "image/png",
                bytes: bytes.into(),
            })
        }
        Some("svg") => {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| bad(setting, format!("{} is not UTF-8 text", path.display())))?;
            let lower = text.to_ascii_lowercase();
            if !lower.contains("<svg") {
                return Err(bad(
                    setting,
                    format!("{} is not an SVG image", path.display()),
                ));
            }
            // Served from this origin: an SVG with scripts, event handlers or outside
            // references is refused, whatever the CSP would do with it.
            for banned in [
                "<script",
                "javascript:",
                "<foreignobject",
                "xlink:href=\"http",
                "href=\"http",
                "<!entity",
            ] {
                if lower.contains(banned) {
                    return Err(bad(
                        setting,
                        format!("{} contains {banned}: a logo may not hold scripts or outside references", path.display()),
                    ));
                }
            }
            if lower
                .split(|c: char| c.is_whitespace())
                .any(|w| w.starts_with("on") && w.contains('='))
            {
                return Err(bad(
                    setting,
                    format!(
                        "{} has an event handler attribute (on…=): a logo may not hold scripts",
                        path.display()
                    ),
                ));
            }
            Ok(Logo {
                file: "logo.svg",
                content_type: "image/svg+xml",
                bytes: bytes.into(),
            })
        }
        _ => Err(bad(setting, "must be an .svg or .png file")),
    }
}

/// `#rgb` or `#rrggbb`.
fn parse_color(raw: &str) -> Option<[u8; 3]> {
    let hex = raw.strip_prefix('#')?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |s: &str| u8::from_str_radix(s, 16).ok();
    match hex.len() {
        // #abc is #aabbcc.
        3 => Some([
            channel(&hex[0..1])? * 17,
            channel(&hex[1..2])? * 17,
            channel(&hex[2..3])? * 17,
        ]),
        6 => Some([
            channel(&hex[0..2])?,
            channel(&hex[2..4])?,
            channel(&hex[4..6])?,
        ]),
        _ => None,
    }
}

/// WCAG 2.x relative luminance.
fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The page backgrounds of app.css, light and dark.
const LIGHT_BG: [u8; 3] = [0xff, 0xff, 0xff];
const DARK_BG: [u8; 3] = [0x0d, 0x11, 0x17];

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// The accent on a light page must read as link text (4.5:1, WCAG 1.4.3). On a dark page it
/// is lightened until it does; buttons take white or near-black text, whichever reads better.
fn brand_css(raw: &str) -> Result<String, SettingsError> {
    let setting = "ui.accent_color";
    let color = parse_color(raw).ok_or_else(|| {
        bad(
            setting,
            format!("'{raw}' is not a colour like #0b5cd5 or #06c"),
        )
    })?;
    let on_light = contrast(color, LIGHT_BG);
    if on_light < 4.5 {
        return Err(bad(
            setting,
            format!(
                "{raw} has a contrast of {on_light:.2}:1 on the white page; links and buttons need 4.5:1 (pick a darker colour)"
            ),
        ));
    }
    let mut dark = color;
    for step in 1..=20u32 {
        if contrast(dark, DARK_BG) >= 4.5 {
            break;
        }
        let t = f64::from(step) / 20.0;
        let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * t).round() as u8;
        dark = [mix(color[0]), mix(color[1]), mix(color[2])];
    }
    let text_on = |bg: [u8; 3]| {
        if contrast(bg, [0xff; 3]) >= contrast(bg, DARK_BG) {
            "#ffffff"
        } else {
            "#0d1117"
        }
    };
    Ok(format!(
        ":root {{ --accent: {}; --accent-fg: {}; }}\n@media (prefers-color-scheme: dark) {{\n  :root {{ --accent: {}; --accent-fg: {}; }}\n}}\n",
        hex(color),
        text_on(color),
        hex(dark),
        text_on(dark)
    ))
}

fn support_url(raw: &str) -> Result<String, SettingsError> {
    let setting = "ui.support_url";
    let url =
        url::Url::parse(raw).map_err(|e| bad(setting, format!("'{raw}' is not a URL: {e}")))?;
    let loopback = url
        .host()
        .is_some_and(|h| crate::config::is_loopback_host(&h));
    match url.scheme() {
        "https" | "mailto" => {}
        "http" if loopback => {}
        other => {
            return Err(bad(
                setting,
                format!("must be an https: or mailto: address, not {other}:"),
            ))
        }
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_take_the_rp_name_and_english() {
        let ui = ui(&UiRaw::default())
            .expect("valid")
            .named_by_default("Example");
        assert_eq!(ui.product_name, "Example");
        assert!(ui.logo.is_none() && ui.brand_css.is_none() && ui.support_url.is_none());
        assert_eq!(ui.default_language, "en");
    }

    #[test]
    fn an_accent_must_read_on_the_light_page_and_is_lightened_for_the_dark_one() {
        let css = brand_css("#0b5cd5").expect("valid");
        assert!(
            css.contains("--accent: #0b5cd5; --accent-fg: #ffffff;"),
            "{css}"
        );
        // The dark-mode accent reaches 4.5:1 on the dark background.
        let dark = css
            .split("--accent: ")
            .nth(2)
            .expect("dark")
            .get(..7)
            .expect("hex");
        let rgb = parse_color(dark).expect("hex");
        assert!(contrast(rgb, DARK_BG) >= 4.5, "{dark}");
        assert!(brand_css("#06c").is_ok());
        let e = brand_css("#ffcc00").expect_err("too light");
        assert!(e.message.contains("4.5:1"), "{}", e.message);
        for bad in ["red", "#12345", "0b5cd5", "#gggggg", "#0b5cd5; }"] {
            assert!(brand_css(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn support_urls_are_https_or_mailto() {
        assert!(support_url("https://help.example.com/passkeys").is_ok());
        assert!(support_url("mailto:help@example.com").is_ok());
        assert!(support_url("http://localhost:3000/help").is_ok());
        for bad in [
            "http://help.example.com",
            "javascript:alert(1)",
            "help",
            "data:text/html,x",
        ] {
            assert!(support_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn logos_are_checked() {
        let dir = std::env::temp_dir().join(format!("ui-logo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let write = |name: &str, body: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, body).expect("write");
            p
        };
        let ok = write("ok.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"><rect width=\"1\" height=\"1\"/></svg>");
        assert_eq!(logo(&ok).expect("svg").file, "logo.svg");
        let png = write("ok.png", b"\x89PNG\r\n\x1a\n0000");
        assert_eq!(logo(&png).expect("png").content_type, "image/png");
        for (name, body) in [
            ("script.svg", &b"<svg><script>alert(1)</script></svg>"[..]),
            ("handler.svg", b"<svg onload=\"alert(1)\"></svg>"),
            (
                "remote.svg",
                b"<svg><image href=\"https://evil.example/x.png\"/></svg>",
            ),
            ("not.png", b"GIF89a"),
            ("logo.gif", b"GIF89a"),
            ("text.svg", b"hello"),
        ] {
            let p = write(name, body);
            assert!(logo(&p).is_err(), "{name}");
        }
        assert!(logo(&dir.join("missing.svg")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
