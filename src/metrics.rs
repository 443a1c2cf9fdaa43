//! Prometheus counters, rendered as text at `/metrics`. Deliberately small: counters keyed by
//! name and labels; label values come from fixed sets (route patterns, status codes, error
//! codes, event names), never from user input. Security events are counted where they are
//! reported ([`crate::events`]), per process.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
}

const HELP: &[(&str, &str)] = &[
    (
        "passkey_idp_http_requests_total",
        "HTTP requests by route pattern and status.",
    ),
    (
        "passkey_idp_ceremonies_total",
        "Passkey ceremonies finished, by kind and outcome.",
    ),
];

impl Metrics {
    pub fn inc(&self, name: &'static str, labels: &[(&str, &str)]) {
        let mut rendered = String::new();
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                rendered.push(',');
            }
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(rendered, "{k}=\"{v}\"");
        }
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        *counters.entry((name, rendered)).or_insert(0) += 1;
    }

    pub fn render(&self) -> String {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for (name, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for ((n, labels), value) in counters.iter() {
                if n == name {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
        }
        let name = "passkey_idp_security_events_total";
        let _ = writeln!(
            out,
            "# HELP {name} Security and audit events this process reported, by event.\n# TYPE {name} counter"
        );
        for (event, count) in crate::events::counts() {
            let _ = writeln!(out, "{name}{{event=\"{}\"}} {count}", event.name());
        }
        out
    }
}
