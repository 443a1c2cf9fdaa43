//! Validated input of the registration form.

/// What is wrong with a field of the registration form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("a username must be 3 to 64 characters long")]
    UsernameLength,
    #[error("a username may contain only a-z, 0-9 and . _ - @ +")]
    UsernameCharacters,
    #[error("a username must start with a letter or a digit")]
    UsernameStart,
    #[error("the email address is not valid")]
    Email,
    #[error("the display name is too long or has control characters")]
    DisplayName,
}

/// A username: 3 to 64 characters of lowercase ASCII letters, digits and `. _ - @ +`, starting
/// with a letter or digit. Input is trimmed and lowercased, so "Alice" and "alice" are one
/// account. ASCII only, so two usernames cannot look alike while being different.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, InputError> {
        let name = raw.trim().to_ascii_lowercase();
        let len = name.chars().count();
        if !(3..=64).contains(&len) {
            return Err(InputError::UsernameLength);
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_@+".contains(c);
        if !name.chars().all(allowed) {
            return Err(InputError::UsernameCharacters);
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(InputError::UsernameStart);
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional email address: trimmed, at most 254 characters, one `@` with text on both sides,
/// no spaces or control characters. Not verified: it is contact data, not an identifier.
pub fn parse_email(raw: Option<&str>) -> Result<Option<String>, InputError> {
    let Some(email) = raw.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@') && !domain.starts_with('.') && !domain.ends_with('.'));
    if !valid {
        return Err(InputError::Email);
    }
    Ok(Some(email.to_string()))
}

/// An optional display name: trimmed, 1 to 64 characters, no control characters. Defaults to
/// the username. Stored as typed; every page escapes it.
pub fn parse_display_name(raw: Option<&str>, username: &Username) -> Result<String, InputError> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(username.as_str().to_string());
    };
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(InputError::DisplayName);
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            Username::parse("  Alice.Smith ").map(|u| u.0).ok(),
            Some("alice.smith".into())
        );
        for bad in [
            "",
            "ab",
            "a b c",
            "ålice",
            "-alice",
            &"x".repeat(65),
            "alice\u{0}",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_and_display_names() {
        assert_eq!(
            parse_email(Some(" a@b.io ")).ok().flatten().as_deref(),
            Some("a@b.io")
        );
        assert_eq!(parse_email(Some("")).ok(), Some(None));
        for bad in ["a", "a@b", "@b.io", "a b@c.io", "a@b@c.io", "a@.io"] {
            assert!(parse_email(Some(bad)).is_err(), "{bad}");
        }
        let u = Username::parse("alice").expect("valid");
        assert_eq!(parse_display_name(None, &u).ok().as_deref(), Some("alice"));
        assert_eq!(
            parse_display_name(Some("<b>Al</b>"), &u).ok().as_deref(),
            Some("<b>Al</b>")
        );
        assert!(parse_display_name(Some("a\nb"), &u).is_err());
    }
}
