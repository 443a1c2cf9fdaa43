//! Who caused an event: the request's id, a coarse browser family (never the address) and, for
//! an administrative change, the actor.

use std::fmt;

use chrono::{SubsecRound, Utc};

use super::{Event, Happened};

/// Who caused a change, as far as the stored events and the session list need to know: the
/// request's id (as in the request log) and a coarse browser family. Never the address.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub request_id: Option<String>,
    /// "Firefox on Linux", from the User-Agent ([`browser_family`]).
    pub browser: BrowserFamily,
    /// The language of the person's pages (a shipped catalog's tag), for what is named for
    /// them, such as a new passkey.
    pub language: &'static str,
    /// Who made an administrative change; `None` when the person acts on their own account.
    pub actor: Option<Actor>,
}

/// Who made an administrative change, as stored events name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The operator at the command line, by their OS user (`cli:root`).
    CommandLine(String),
    /// A caller of the admin API, by the name of its token (`token:helpdesk`).
    Token(String),
    /// A running instance acting on its own (a scheduled rotation, a setting seen changed).
    Instance(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::CommandLine(user) => write!(f, "cli:{user}"),
            Actor::Token(name) => write!(f, "token:{name}"),
            Actor::Instance(id) => write!(f, "instance:{id}"),
        }
    }
}

impl Actor {
    /// The operator running this command: the OS user (`USER`, else `LOGNAME`, else `unknown`).
    pub fn os_user() -> Actor {
        let user = ["USER", "LOGNAME"]
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "unknown".to_string());
        Actor::CommandLine(user)
    }
}

impl Caller {
    /// The operator at the command line.
    pub fn command_line() -> Caller {
        Caller {
            request_id: None,
            browser: BrowserFamily::CommandLine,
            language: "en",
            actor: Some(Actor::os_user()),
        }
    }

    /// A running instance acting on its own.
    pub fn instance(id: &str) -> Caller {
        Caller {
            actor: Some(Actor::Instance(id.to_string())),
            ..Caller::default()
        }
    }

    /// A caller of the admin API with the token named `token`.
    pub fn token(request_id: Option<String>, token: &str) -> Caller {
        Caller {
            request_id,
            browser: BrowserFamily::App,
            language: "en",
            actor: Some(Actor::Token(token.to_string())),
        }
    }

    /// An event of `kind` caused by this caller, now.
    pub fn event(&self, kind: Event, user: Option<&str>, credential: Option<&str>) -> Happened {
        Happened {
            kind,
            occurred_at: Utc::now().naive_utc().trunc_subsecs(6),
            user_id: user.map(str::to_string),
            credential_id: credential.map(str::to_string),
            client_id: None,
            request_id: self.request_id.clone(),
            reason: None,
            detail: None,
            actor: self.actor.as_ref().map(Actor::to_string),
            username: None,
            object: None,
            change: None,
        }
    }
}

/// A coarse browser and system family from a User-Agent ("Chrome on Android"): enough for a
/// person to recognise their devices, too little to fingerprint them. The User-Agent itself is
/// never stored; this is, as its English text (`to_string`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserFamily {
    /// A browser (`None`: one we do not recognise), on a system when it is known.
    Browser {
        name: Option<&'static str>,
        system: Option<&'static str>,
    },
    /// curl, a script, an HTTP library: no browser.
    App,
    /// The operator at the command line.
    CommandLine,
}

impl Default for BrowserFamily {
    fn default() -> Self {
        BrowserFamily::Browser {
            name: None,
            system: None,
        }
    }
}

impl fmt::Display for BrowserFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrowserFamily::Browser { name, system } => {
                f.write_str(name.unwrap_or("Unknown browser"))?;
                match system {
                    Some(system) => write!(f, " on {system}"),
                    None => Ok(()),
                }
            }
            BrowserFamily::App => f.write_str("An app or script"),
            BrowserFamily::CommandLine => f.write_str("command line"),
        }
    }
}

pub fn browser_family(user_agent: &str) -> BrowserFamily {
    let ua = user_agent.to_ascii_lowercase();
    let has = |s: &str| ua.contains(s);
    let name = if has("edg/") || has("edge/") {
        Some("Edge")
    } else if has("opr/") || has("opera") {
        Some("Opera")
    } else if has("samsungbrowser") {
        Some("Samsung Internet")
    } else if has("firefox/") || has("fxios") {
        Some("Firefox")
    } else if has("chrome/") || has("chromium/") || has("crios") {
        Some("Chrome")
    } else if has("safari/") {
        Some("Safari")
    } else if ua.is_empty() {
        return BrowserFamily::default();
    } else if has("curl/") || has("python") || has("reqwest") || has("okhttp") || has("go-http") {
        return BrowserFamily::App;
    } else {
        None
    };
    let system = if has("android") {
        Some("Android")
    } else if has("iphone") || has("ipad") || has("ios") {
        Some("iOS")
    } else if has("cros") {
        Some("ChromeOS")
    } else if has("mac os") || has("macintosh") {
        Some("macOS")
    } else if has("windows") {
        Some("Windows")
    } else if has("linux") {
        Some("Linux")
    } else {
        None
    };
    BrowserFamily::Browser { name, system }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_families_are_coarse() {
        for (ua, family) in [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Linux"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iOS"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on macOS"),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
            ("curl/8.5.0", "An app or script"),
            ("", "Unknown browser"),
        ] {
            assert_eq!(browser_family(ua).to_string(), family, "{ua}");
        }
    }
}
