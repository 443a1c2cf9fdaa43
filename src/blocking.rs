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
