//! Work handed to the blocking thread pool (database calls, password hashing, key files)
//! carries the span of the request that asked for it, so a log line written there names its
//! request.

/// Runs `f` on the blocking pool inside the caller's current span.
pub fn spawn<T, F>(f: F) -> tokio::task::JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
}

#[cfg(test)]
mod tests {
    use tracing::Instrument;

    #[tokio::test]
    async fn blocking_work_runs_in_the_callers_span() {
        // Spans exist only under a subscriber; the blocking thread sees the global one.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
        let span = tracing::info_span!("request", request_id = "abc");
        let name = async {
            super::spawn(|| tracing::Span::current().metadata().map(|m| m.name()))
                .await
                .expect("joined")
        }
        .instrument(span)
        .await;
        assert_eq!(name, Some("request"));
    }
}
