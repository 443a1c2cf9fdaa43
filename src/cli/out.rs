//! What a command prints on standard output, and what happens when its reader goes away.
//!
//! Every line goes through [`line`] (the `say!` macro), which returns an error instead of
//! panicking when stdout is a closed pipe (`passkey-idp events | head -1`); that error carries
//! the [`StdoutClosed`] marker, and [`stdout_closed`] lets `main` end such a command with exit 0
//! and nothing on stderr.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

/// Marks the error of a write to a stdout whose reader has gone: the command has nothing left
/// to say, and nobody to say it to.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// Writes one line to standard output. A closed pipe is an error that carries
/// [`StdoutClosed`]; any other write error is returned as it is.
pub fn line(args: fmt::Arguments<'_>) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{args}").map_err(|e| match e.kind() {
        io::ErrorKind::BrokenPipe => io::Error::new(io::ErrorKind::BrokenPipe, StdoutClosed),
        _ => e,
    })
}

/// `say!("…", args)`: one line on standard output, as `println!` but returning `io::Result`.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// Whether `error` is a write to a closed standard output (which ends a command with exit 0).
pub fn stdout_closed(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            .is_some_and(|inner| inner.is::<StdoutClosed>())
    })
}

/// `value` as JSON: pretty-printed, on standard output.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    say!("{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// What a removing command prints with `--json`: the id of what it removed, or `null` when
/// there was nothing to remove (`--if-exists`).
#[derive(Debug, Serialize)]
pub struct Removal<'a> {
    pub removed: Option<&'a str>,
}

/// Prints `value` as JSON when `json` is set, else the lines `human` writes.
pub fn answer<T: Serialize + ?Sized>(
    json: bool,
    value: &T,
    human: impl FnOnce(&T) -> io::Result<()>,
) -> anyhow::Result<()> {
    if json {
        self::json(value)
    } else {
        Ok(human(value)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_told_apart_from_other_write_errors() {
        let closed = io::Error::new(io::ErrorKind::BrokenPipe, StdoutClosed);
        let error = anyhow::Error::from(closed).context("printing the users");
        assert!(stdout_closed(&error));
        // A broken connection to the database is a fault, not a reader that went away.
        let other = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(!stdout_closed(&other));
    }
}
