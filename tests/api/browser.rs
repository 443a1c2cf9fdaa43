//! Minimal, synchronous Chrome DevTools Protocol (CDP) client for integration tests.
//!
//! Drives Debian's headless Chromium (`/usr/bin/chromium`) over a single plain `ws://`
//! websocket to the *browser* target on 127.0.0.1; pages are attached with
//! `Target.attachToTarget {flatten: true}` and addressed by `sessionId` on that socket.
//! Nothing but 127.0.0.1 is ever contacted by this module.
//!
//! The API is blocking: call it from a plain thread or `tokio::task::spawn_blocking`.
//! Every CDP command has a deadline (30 s), so a dead or wedged browser yields an `Err`
//! instead of hanging the test.
//!
//! # WebAuthn notes (measured with Chromium 156, headless, `WebAuthn.enable {enableUI:false}`)
//!
//! * **Making a ceremony fail like a user cancelling the prompt** (`NotAllowedError`):
//!   on an authenticator created with `has_user_verification: true`, call
//!   [`Page::set_user_verified`]`(id, false)` and issue the request with
//!   `userVerification: "required"` — `create()` and `get()` both reject with a
//!   `NotAllowedError` DOMException almost immediately (tens of milliseconds), not after
//!   the request timeout. By contrast, [`Page::set_automatic_presence`]`(id, false)` or
//!   [`Page::remove_virtual_authenticator`] make the request wait for a touch / an
//!   authenticator and only fail (`NotAllowedError`) when the WebAuthn `timeout` expires.
//!   A discoverable `get()` when the authenticator holds no credential for the RP also
//!   fails fast with `NotAllowedError`. Evidence: `tests/selftest.rs`
//!   (`webauthn_not_allowed_via_failed_user_verification`,
//!   `webauthn_presence_off_or_removed_fails_only_at_timeout`).
//! * **Conditional mediation** (`mediation: "conditional"`): with `enableUI:false` there is no
//!   autofill UI; Chromium resolves the request by itself right after it is made (~25 ms, no
//!   focus/click/typing needed) with the authenticator's discoverable credential for the RP,
//!   and rejects it at once with `NotAllowedError` when there is none (a real browser would
//!   leave it pending). So a login page that starts conditional mediation on load signs in
//!   immediately whenever a passkey exists, and must tolerate `NotAllowedError` otherwise.
//!   (With `enableUI:true`, ceremonies hang in headless mode: nobody answers the UI.)
//!   Evidence: `webauthn_conditional_mediation` in `tests/selftest.rs`.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

const CHROMIUM: &str = "/usr/bin/chromium";
/// Deadline for a single CDP command round trip.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for Chromium to write `DevToolsActivePort`.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(15);
/// Deadline for `Page::goto` to observe the load event.
const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(15);
/// At most this many events are buffered (only the few kinds we may wait for are kept).
const MAX_BUFFERED_EVENTS: usize = 256;
/// Events worth buffering; everything else is dropped on the floor.
const KEPT_EVENTS: &[&str] = &[
    "Page.loadEventFired",
    "Target.detachedFromTarget",
    "Inspector.detached",
    "Target.targetCrashed",
];

/// The websocket to the browser target plus the message-id counter and event buffer.
struct Conn {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    events: VecDeque<Value>,
}

impl Conn {
    fn connect(port: u16, path: &str) -> Result<Conn, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| format!("connect to DevTools at {addr}: {e}"))?;
        stream.set_nodelay(true).ok();
        stream
            .set_read_timeout(Some(COMMAND_TIMEOUT))
            .map_err(|e| format!("set_read_timeout: {e}"))?;
        stream
            .set_write_timeout(Some(COMMAND_TIMEOUT))
            .map_err(|e| format!("set_write_timeout: {e}"))?;
        let url = format!("ws://127.0.0.1:{port}{path}");
        let (ws, _resp) = tungstenite::client::client(url.as_str(), stream)
            .map_err(|e| format!("websocket handshake with {url}: {e}"))?;
        Ok(Conn {
            ws,
            next_id: 1,
            events: VecDeque::new(),
        })
    }

    fn send_only(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<u64, String> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = Value::String(s.to_owned());
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .map_err(|e| format!("CDP {method}: websocket send failed: {e}"))?;
        Ok(id)
    }

    /// Reads one JSON message, waiting at most until `deadline`. `Ok(None)` on timeout.
    fn read_one(&mut self, deadline: Instant) -> Result<Option<Value>, String> {
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let remaining = (deadline - now).max(Duration::from_millis(1));
            self.ws
                .get_ref()
                .set_read_timeout(Some(remaining))
                .map_err(|e| format!("set_read_timeout: {e}"))?;
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    return serde_json::from_str(t.as_str()).map(Some).map_err(|e| {
                        format!("CDP sent invalid JSON ({e}): {}", truncate(t.as_str(), 200))
                    });
                }
                Ok(Message::Binary(b)) => {
                    return serde_json::from_slice(&b)
                        .map(Some)
                        .map_err(|e| format!("CDP sent invalid JSON in a binary frame: {e}"));
                }
                Ok(Message::Close(frame)) => {
                    return Err(format!(
                        "DevTools websocket closed by the browser: {frame:?}"
                    ));
                }
                Ok(_) => continue, // ping/pong/raw frame
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue; // deadline re-checked at the top of the loop
                }
                Err(e) => return Err(format!("DevTools websocket read failed: {e}")),
            }
        }
    }

    fn stash_event(&mut self, msg: Value) {
        let keep = msg
            .get("method")
            .and_then(Value::as_str)
            .is_some_and(|m| KEPT_EVENTS.contains(&m));
        if keep {
            if self.events.len() >= MAX_BUFFERED_EVENTS {
                self.events.pop_front();
            }
            self.events.push_back(msg);
        }
    }

    fn call_with_timeout(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, String> {
        let id = self.send_only(session, method, params)?;
        let deadline = Instant::now() + timeout;
        loop {
            let Some(msg) = self.read_one(deadline)? else {
                return Err(format!(
                    "timed out after {timeout:?} waiting for the response to CDP {method} (id {id})"
                ));
            };
            if msg.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(err) = msg.get("error") {
                    let text = err
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error");
                    let code = err.get("code").map(|c| c.to_string()).unwrap_or_default();
                    let data = err
                        .get("data")
                        .and_then(Value::as_str)
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default();
                    return Err(format!("CDP {method} failed: {text}{data} [code {code}]"));
                }
                return Ok(msg.get("result").cloned().unwrap_or(Value::Null));
            }
            if msg.get("method").is_some() {
                self.check_fatal_event(&msg, session)?;
                self.stash_event(msg);
            }
            // else: a late response to an earlier (timed out / fire-and-forget) command.
        }
    }

    /// Turns "your page is gone" events into errors rather than letting the caller time out.
    fn check_fatal_event(&self, msg: &Value, session: Option<&str>) -> Result<(), String> {
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
        let msg_session = msg.get("sessionId").and_then(Value::as_str);
        match method {
            "Target.detachedFromTarget" => {
                let detached = msg.pointer("/params/sessionId").and_then(Value::as_str);
                if session.is_some() && detached == session {
                    return Err("page target detached (closed or crashed)".into());
                }
            }
            "Inspector.targetCrashed" if session.is_some() && msg_session == session => {
                return Err("page renderer crashed (Inspector.targetCrashed)".into());
            }
            _ => {}
        }
        Ok(())
    }

    /// Takes the first buffered event for `session` with the given method, if any.
    fn take_event(&mut self, session: &str, method: &str) -> Option<Value> {
        let pos = self.events.iter().position(|e| {
            e.get("method").and_then(Value::as_str) == Some(method)
                && e.get("sessionId").and_then(Value::as_str) == Some(session)
        })?;
        self.events.remove(pos)
    }

    fn drop_events(&mut self, session: &str, method: &str) {
        self.events.retain(|e| {
            !(e.get("method").and_then(Value::as_str) == Some(method)
                && e.get("sessionId").and_then(Value::as_str) == Some(session))
        });
    }

    /// Waits until an event `method` for `session` arrives (or is already buffered).
    fn wait_event(
        &mut self,
        session: &str,
        method: &str,
        timeout: Duration,
    ) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(ev) = self.take_event(session, method) {
                return Ok(ev);
            }
            let Some(msg) = self.read_one(deadline)? else {
                return Err(format!(
                    "timed out after {timeout:?} waiting for CDP event {method}"
                ));
            };
            if msg.get("method").is_some() {
                self.check_fatal_event(&msg, Some(session))?;
                self.stash_event(msg);
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn lock(conn: &Mutex<Conn>) -> MutexGuard<'_, Conn> {
    // A panic while holding the lock leaves the connection usable enough for tests.
    conn.lock().unwrap_or_else(|p| p.into_inner())
}

/// A headless Chromium process plus a CDP connection to its browser target.
///
/// Dropping it closes the browser, kills its process group and removes the profile dir.
pub struct Browser {
    child: Child,
    user_data_dir: PathBuf,
    conn: Arc<Mutex<Conn>>,
}

impl Browser {
    /// Launches `/usr/bin/chromium` headless with a fresh profile and connects to it.
    pub fn launch() -> Result<Browser, String> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "cdp-chromium-{}-{}-{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let stderr_path = dir.join("chromium-stderr.log");
        let stderr = std::fs::File::create(&stderr_path)
            .map_err(|e| format!("create {}: {e}", stderr_path.display()))?;

        let mut cmd = Command::new(CHROMIUM);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", dir.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr));
        {
            use std::os::unix::process::CommandExt as _;
            cmd.process_group(0); // so Drop can kill renderers/zygotes too
        }
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!(
                    "spawn {CHROMIUM}: {e} (install it with `apt-get install -y chromium`)"
                ));
            }
        };
        // From here on, `guard` cleans up if anything fails.
        let mut guard = LaunchGuard {
            child: Some(child),
            dir: dir.clone(),
        };

        let port_file = dir.join("DevToolsActivePort");
        let deadline = Instant::now() + LAUNCH_TIMEOUT;
        let (port, path) = loop {
            if let Ok(s) = std::fs::read_to_string(&port_file) {
                let mut lines = s.lines();
                if let (Some(p), Some(path)) = (lines.next(), lines.next()) {
                    if let Ok(port) = p.trim().parse::<u16>() {
                        break (port, path.trim().to_owned());
                    }
                }
            }
            if let Some(Ok(Some(status))) = guard.child.as_mut().map(|c| c.try_wait()) {
                return Err(format!(
                    "chromium exited early ({status}); stderr: {}",
                    tail_of_file(&stderr_path)
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "timed out after {LAUNCH_TIMEOUT:?} waiting for {}; chromium stderr: {}",
                    port_file.display(),
                    tail_of_file(&stderr_path)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let conn = Conn::connect(port, &path)?;
        let child = guard
            .child
            .take()
            .ok_or("impossible: child already taken")?;
        Ok(Browser {
            child,
            user_data_dir: dir,
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Opens a new `about:blank` tab, attaches to it (flatten) and enables `Page` + `Runtime`.
    pub fn new_page(&mut self) -> Result<Page, String> {
        let mut c = lock(&self.conn);
        let r = c.call_with_timeout(
            None,
            "Target.createTarget",
            json!({"url": "about:blank"}),
            COMMAND_TIMEOUT,
        )?;
        let target_id = r
            .get("targetId")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("Target.createTarget returned no targetId: {r}"))?
            .to_owned();
        let r = c.call_with_timeout(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
            COMMAND_TIMEOUT,
        )?;
        let session_id = r
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("Target.attachToTarget returned no sessionId: {r}"))?
            .to_owned();
        c.call_with_timeout(Some(&session_id), "Page.enable", json!({}), COMMAND_TIMEOUT)?;
        c.call_with_timeout(
            Some(&session_id),
            "Runtime.enable",
            json!({}),
            COMMAND_TIMEOUT,
        )?;
        drop(c);
        Ok(Page {
            conn: Arc::clone(&self.conn),
            session_id,
            target_id,
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask politely first (lets Chromium flush and exit), then make sure.
        if let Ok(mut c) = self.conn.lock() {
            let _ = c.send_only(None, "Browser.close", json!({}));
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) => std::thread::sleep(Duration::from_millis(25)),
            }
        }
        kill_tree(&mut self.child);
        remove_dir_retrying(&self.user_data_dir);
    }
}

/// Cleans up a half-launched browser.
struct LaunchGuard {
    child: Option<Child>,
    dir: PathBuf,
}

impl Drop for LaunchGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_tree(&mut child);
            remove_dir_retrying(&self.dir);
        }
    }
}

/// Kills the process group we created for the child (renderers etc.) and the child itself.
fn kill_tree(child: &mut Child) {
    let pid = child.id();
    // The child is the leader of its own process group (process_group(0)), so -pid is
    // exactly the processes we started.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

fn remove_dir_retrying(dir: &Path) {
    for _ in 0..20 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn tail_of_file(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    let start = s.len().saturating_sub(2000);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    s[start..].trim().to_owned()
}

/// Options for `WebAuthn.addVirtualAuthenticator`.
#[derive(Clone, Debug)]
pub struct AuthenticatorOptions {
    /// `"ctap2"` or `"u2f"`.
    pub protocol: &'static str,
    /// `"internal"` (platform authenticator), `"usb"`, `"nfc"`, `"ble"`, `"cable"`.
    pub transport: &'static str,
    pub has_resident_key: bool,
    pub has_user_verification: bool,
    pub is_user_verified: bool,
}

impl Default for AuthenticatorOptions {
    /// A CTAP2 platform authenticator with resident keys and (successful) user verification.
    fn default() -> Self {
        AuthenticatorOptions {
            protocol: "ctap2",
            transport: "internal",
            has_resident_key: true,
            has_user_verification: true,
            is_user_verified: true,
        }
    }
}

/// A page (tab) attached with a flattened session on the browser's websocket.
///
/// Owns a handle to the shared connection, so it is `Send` and can outlive borrows of the
/// [`Browser`]; once the browser is dropped every call returns `Err`.
pub struct Page {
    conn: Arc<Mutex<Conn>>,
    session_id: String,
    target_id: String,
}

impl Page {
    /// Sends a raw CDP command to this page's session.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        lock(&self.conn).call_with_timeout(Some(&self.session_id), method, params, COMMAND_TIMEOUT)
    }

    /// Navigates and waits (≤ 15 s) for the load event of the new document.
    pub fn goto(&mut self, url: &str) -> Result<(), String> {
        let mut c = lock(&self.conn);
        c.drop_events(&self.session_id, "Page.loadEventFired");
        let r = c.call_with_timeout(
            Some(&self.session_id),
            "Page.navigate",
            json!({"url": url}),
            COMMAND_TIMEOUT,
        )?;
        if let Some(err) = r.get("errorText").and_then(Value::as_str) {
            return Err(format!("navigation to {url} failed: {err}"));
        }
        if r.get("loaderId").is_none() {
            return Ok(()); // same-document navigation (e.g. #fragment): no load event
        }
        c.wait_event(&self.session_id, "Page.loadEventFired", NAVIGATION_TIMEOUT)
            .map(|_| ())
            .map_err(|e| format!("goto {url}: {e}"))
    }

    /// Evaluates `js` (awaiting promises) and returns the value as JSON (`Null` for undefined).
    /// A thrown exception or rejected promise becomes `Err` with its description.
    pub fn eval(&mut self, js: &str) -> Result<Value, String> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "awaitPromise": true, "returnByValue": true}),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            let desc = ex
                .pointer("/exception/description")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| ex.pointer("/exception/value").map(|v| v.to_string()))
                .or_else(|| ex.get("text").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| ex.to_string());
            return Err(format!("JS exception in `{}`: {desc}", truncate(js, 120)));
        }
        Ok(r.pointer("/result/value").cloned().unwrap_or(Value::Null))
    }

    /// Polls `js_condition` (every 50 ms) until it is truthy. Exceptions count as "not yet"
    /// (the last one is reported on timeout).
    pub fn wait_for(&mut self, js_condition: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let expr = format!("(() => !!({js_condition}))()");
        let mut last_err = None;
        loop {
            match self.eval(&expr) {
                Ok(Value::Bool(true)) => return Ok(()),
                Ok(_) => {}
                Err(e) => last_err = Some(e),
            }
            if Instant::now() >= deadline {
                let extra = last_err
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default();
                return Err(format!(
                    "timed out after {timeout:?} waiting for `{js_condition}`{extra}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Scrolls the first element matching `css` into view and clicks its centre with real
    /// (trusted) mouse events, so it counts as user activation. Like a person, it waits (up to
    /// five seconds) for the element to appear: after a navigation the new URL is visible
    /// before the new document is parsed.
    pub fn click(&mut self, css: &str) -> Result<(), String> {
        let sel = serde_json::to_string(css).map_err(|e| e.to_string())?;
        if self
            .wait_for(
                &format!("document.querySelector({sel}) !== null"),
                Duration::from_secs(5),
            )
            .is_err()
        {
            return Err(format!("click: no element matches `{css}`"));
        }
        let js = format!(
            "(() => {{ const el = document.querySelector({sel}); if (!el) return null; \
             el.scrollIntoView({{block: 'center', inline: 'center'}}); \
             const r = el.getBoundingClientRect(); \
             return {{x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}}; }})()"
        );
        let r = self.eval(&js)?;
        if r.is_null() {
            return Err(format!("click: no element matches `{css}`"));
        }
        let num = |k: &str| r.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        let (x, y) = (num("x"), num("y"));
        if num("w") <= 0.0 || num("h") <= 0.0 {
            return Err(format!("click: element `{css}` has no size (hidden?): {r}"));
        }
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": "mouseMoved", "x": x, "y": y}),
        )?;
        for ty in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": ty, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1}),
            )?;
        }
        Ok(())
    }

    /// Focuses the first element matching `css` and inserts `text` at the caret.
    pub fn type_into(&mut self, css: &str, text: &str) -> Result<(), String> {
        let sel = serde_json::to_string(css).map_err(|e| e.to_string())?;
        let js = format!(
            "(() => {{ const el = document.querySelector({sel}); if (!el) return false; \
             el.focus(); return document.activeElement === el; }})()"
        );
        match self.eval(&js)? {
            Value::Bool(true) => {}
            Value::Bool(false) => {
                return Err(format!("type_into: `{css}` not found or not focusable"));
            }
            other => return Err(format!("type_into: unexpected result {other}")),
        }
        self.call("Input.insertText", json!({"text": text}))?;
        Ok(())
    }

    /// `innerText` of the first element matching `css`, or `""` if none matches.
    pub fn text(&mut self, css: &str) -> Result<String, String> {
        let sel = serde_json::to_string(css).map_err(|e| e.to_string())?;
        let v = self.eval(&format!(
            "(() => {{ const el = document.querySelector({sel}); return el ? el.innerText : ''; }})()"
        ))?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// The current `location.href`.
    pub fn url(&mut self) -> Result<String, String> {
        let v = self.eval("location.href")?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("location.href is not a string: {v}"))
    }

    /// Writes a PNG screenshot of the viewport to `path` (creating parent directories).
    pub fn screenshot(&mut self, path: &Path) -> Result<(), String> {
        // The whole page, not just the viewport.
        let metrics = self.call("Page.getLayoutMetrics", json!({}))?;
        let size = &metrics["cssContentSize"];
        let clip = json!({
            "x": 0, "y": 0, "scale": 1,
            "width": size["width"].as_f64().unwrap_or(800.0),
            "height": size["height"].as_f64().unwrap_or(600.0),
        });
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true, "clip": clip}),
        )?;
        let data = r
            .get("data")
            .and_then(Value::as_str)
            .ok_or_else(|| "Page.captureScreenshot returned no data".to_owned())?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| format!("screenshot base64: {e}"))?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("create {}: {e}", parent.display()))?;
        }
        std::fs::write(path, png).map_err(|e| format!("write {}: {e}", path.display()))
    }

    /// `WebAuthn.enable {enableUI: false}` — required before adding virtual authenticators.
    pub fn enable_webauthn(&mut self) -> Result<(), String> {
        self.call("WebAuthn.enable", json!({"enableUI": false}))
            .map(|_| ())
    }

    /// Adds a virtual authenticator (with `automaticPresenceSimulation: true`); returns its id.
    pub fn add_virtual_authenticator(
        &mut self,
        opts: AuthenticatorOptions,
    ) -> Result<String, String> {
        let r = self.call(
            "WebAuthn.addVirtualAuthenticator",
            json!({"options": {
                "protocol": opts.protocol,
                "transport": opts.transport,
                "hasResidentKey": opts.has_resident_key,
                "hasUserVerification": opts.has_user_verification,
                "isUserVerified": opts.is_user_verified,
                "automaticPresenceSimulation": true,
            }}),
        )?;
        r.get("authenticatorId")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                format!("WebAuthn.addVirtualAuthenticator returned no authenticatorId: {r}")
            })
    }

    pub fn remove_virtual_authenticator(&mut self, id: &str) -> Result<(), String> {
        self.call(
            "WebAuthn.removeVirtualAuthenticator",
            json!({"authenticatorId": id}),
        )
        .map(|_| ())
    }

    /// `WebAuthn.getCredentials`: objects with `credentialId`, `isResidentCredential`, `rpId`,
    /// `privateKey`, `userHandle`, `signCount`, ...
    pub fn credentials(&mut self, authenticator_id: &str) -> Result<Vec<Value>, String> {
        let r = self.call(
            "WebAuthn.getCredentials",
            json!({"authenticatorId": authenticator_id}),
        )?;
        match r.get("credentials") {
            Some(Value::Array(a)) => Ok(a.clone()),
            _ => Err(format!(
                "WebAuthn.getCredentials returned no credentials array: {r}"
            )),
        }
    }

    /// Whether user verification succeeds. `false` + `userVerification: "required"` makes
    /// `create()`/`get()` reject quickly with `NotAllowedError` (like a cancelled prompt).
    pub fn set_user_verified(
        &mut self,
        authenticator_id: &str,
        verified: bool,
    ) -> Result<(), String> {
        self.call(
            "WebAuthn.setUserVerified",
            json!({"authenticatorId": authenticator_id, "isUserVerified": verified}),
        )
        .map(|_| ())
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // Fire-and-forget: the response (if any) is skipped by the next command.
        if let Ok(mut c) = self.conn.lock() {
            let _ = c.send_only(
                None,
                "Target.closeTarget",
                json!({"targetId": self.target_id}),
            );
        }
    }
}
