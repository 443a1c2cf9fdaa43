//! Whether a dependency is answering: the database and the challenge store each keep one
//! [`Outage`], so that an outage is logged once when it starts and once when it ends, not on
//! every request in between.

use std::fmt;

/// Whether a dependency is answering, so that an outage is logged once when it starts and once
/// when it ends, not on every request in between.
#[derive(Clone)]
pub struct Outage {
    dependency: &'static str,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Outage {
    pub fn new(dependency: &'static str) -> Outage {
        Outage {
            dependency,
            down: Default::default(),
        }
    }

    /// A call failed because the dependency did not answer; true when this starts an outage
    /// (and so was logged).
    pub fn failed(&self, cause: &dyn fmt::Display) -> bool {
        use std::sync::atomic::Ordering;
        let started = !self.down.swap(true, Ordering::AcqRel);
        if started {
            tracing::error!(
                dependency = self.dependency,
                error = %cause,
                "{} is unavailable; answering 503 until it is back",
                self.dependency
            );
        }
        started
    }

    /// A call succeeded; true when this ends an outage (and so was logged).
    pub fn answered(&self) -> bool {
        use std::sync::atomic::Ordering;
        let ended = self.down.load(Ordering::Acquire) && self.down.swap(false, Ordering::AcqRel);
        if ended {
            tracing::warn!(
                dependency = self.dependency,
                "{} is answering again",
                self.dependency
            );
        }
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_reported_once_when_it_starts_and_once_when_it_ends() {
        let outage = Outage::new("database");
        assert!(!outage.answered(), "no outage yet");
        assert!(outage.failed(&"timeout"), "the first failure starts it");
        assert!(
            !outage.failed(&"timeout"),
            "later failures are the same outage"
        );
        assert!(
            outage.clone().answered(),
            "the first answer ends it, on any clone"
        );
        assert!(!outage.answered());
        assert!(outage.failed(&"again"), "a new outage is reported again");
    }
}
