// Shared by every page: JSON calls, WebAuthn option/response conversion, and words a person
// can act on for every error. No framework, no build step.
"use strict";

const Passkeys = (() => {
  // --- Words: every sentence comes from the page's catalog ---
  // The page holds <script type="application/json" id="i18n">{"full.dotted.key": "…"}</script>
  // and <html lang="…">. A key the catalog lacks comes back as itself, so a test can spot it.

  // The page's language, for the catalog's plural rules and every date and number.
  const lang = (() => {
    const raw = String(document.documentElement.lang || "").trim() || "en";
    try {
      return Intl.getCanonicalLocales(raw)[0] || "en";
    } catch (e) {
      return typeof Intl === "undefined" ? raw : "en";
    }
  })();
  const english = lang.split("-")[0].toLowerCase() === "en";

  let catalog = null; // read once, on first use
  function messages() {
    if (catalog === null) {
      catalog = {};
      try {
        const block = document.getElementById("i18n");
        const data = block ? JSON.parse(block.textContent) : null;
        if (data && typeof data === "object" && !Array.isArray(data)) catalog = data;
      } catch (e) {
        catalog = {};
      }
    }
    return catalog;
  }

  const own = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  // The catalog's sentence for key, or null. With a numeric count and no plain key, the
  // plural form for the page's language (key.one, key.other, …), then key.other.
  function lookup(key, params) {
    const all = messages();
    const found = (k) => (own(all, k) && typeof all[k] === "string" ? all[k] : null);
    const plain = found(key);
    if (plain !== null) return plain;
    if (params && typeof params.count === "number" && !Number.isNaN(params.count)) {
      let category;
      try {
        category = new Intl.PluralRules(lang).select(params.count);
      } catch (e) {
        category = params.count === 1 ? "one" : "other";
      }
      const form = found(key + "." + category);
      return form !== null ? form : found(key + ".other");
    }
    return null;
  }

  function has(key, params) {
    return lookup(key, params) !== null;
  }

  // The sentence for key, {name} placeholders filled from params (as text).
  function t(key, params) {
    const sentence = lookup(key, params);
    if (sentence === null) return key;
    return sentence.replace(/\{(\w+)\}/g, (whole, name) => (params && own(params, name) ? String(params[name]) : whole));
  }

  // The same, as pieces for element.append(...): a placeholder whose value is a DOM node
  // (a <time>, a <span>) is that node; the rest is text, never HTML.
  function parts(key, params) {
    const sentence = lookup(key, params);
    if (sentence === null) return [key];
    return sentence.split(/\{(\w+)\}/).map((piece, i) => {
      if (i % 2 === 0) return piece;
      if (!params || !own(params, piece)) return "{" + piece + "}";
      const value = params[piece];
      return value instanceof Node ? value : String(value);
    }).filter((piece) => piece !== "");
  }

  // The status box (#status, role=status) starts at the top of <main>; a message about a
  // control is shown beside it (say's third argument), so it is seen where the person is
  // looking, on a phone too.
  let box = null;
  let home = null;
  function statusBox() {
    if (!box || (!box.isConnected && document.getElementById("status"))) {
      box = document.getElementById("status");
      if (box && box.parentNode) home = { parent: box.parentNode, next: box.nextSibling };
    }
    return box;
  }

  // A live region moved in the DOM is announced reliably only once it is in place: after a
  // move, the words follow a moment later.
  const ANNOUNCE_AFTER_MOVE_MS = 100;
  let turn = 0;

  function say(message, kind, near) {
    const status = statusBox();
    if (!status) return;
    const mine = ++turn;
    const beside = near && near.isConnected && near !== status && !status.contains(near) ? near : null;
    let moved = false;
    if (beside && beside.nextSibling !== status) {
      status.textContent = "";
      beside.after(status);
      moved = true;
    } else if (!beside && !status.isConnected && home && home.parent.isConnected) {
      // Its last place was removed (a deleted row): back to the top of the page.
      status.textContent = "";
      home.parent.insertBefore(status, home.next && home.next.parentNode === home.parent ? home.next : home.parent.firstChild);
      moved = true;
    }
    const show = () => {
      if (mine !== turn) return; // a newer message took over
      status.className = "status" + (kind ? " " + kind : "");
      status.textContent = message; // textContent: never HTML, whatever the message holds
      if ((beside || moved) && message && typeof status.scrollIntoView === "function") {
        status.scrollIntoView({ block: "nearest" });
        // The focused control is where the person is: it stays on screen, on a phone too, even
        // if the words then do not fit (the live region is read out all the same).
        const focus = document.activeElement;
        if (focus && focus !== status && focus.matches && focus.matches("button, a[href], input, textarea, select")) {
          focus.scrollIntoView({ block: "nearest" });
        }
      }
    };
    if (moved) setTimeout(show, ANNOUNCE_AFTER_MOVE_MS); else show();
  }

  class ApiError extends Error {
    // message: the page's own sentence for the code; description: the server's, if it sent one.
    constructor(code, message, description, status) {
      super(message);
      this.code = code;
      this.description = description || "";
      this.status = status || 0;
    }
  }

  // A sensitive account action answered reauthentication_required: the person confirms with
  // a passkey (the page says why, beside near: the control used), and the action is tried
  // once more. `then`: what the page says once confirmed, when the action brings a prompt of
  // its own (else the words go).
  async function call(method, path, body, near, then) {
    try {
      return await request(method, path, body);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== "reauthentication_required") throw e;
      say(t("js.common.confirm_reauth"), "note", near);
      const begin = await request("POST", "/account/reauth/begin", {});
      let cred;
      try {
        cred = await navigator.credentials.get({ publicKey: requestOptions(begin.publicKey) });
      } catch (prompt) {
        // A prompt closed here was the confirmation, whatever the action was: fail says so.
        try { prompt.during = "reauth"; } catch (ignored) { /* a frozen error: the generic words */ }
        throw prompt;
      }
      await request("POST", "/account/reauth/finish", credentialJSON(cred));
      say(then || "", "", then ? near : undefined);
      return request(method, path, body);
    }
  }

  async function request(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError("network", t("error.network"));
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const code = (data && data.error) || "server_error";
      const description = data && typeof data.error_description === "string" ? data.error_description : "";
      throw new ApiError(code, sentenceFor(code, description, retryAfter(response)), description, response.status);
    }
    return data;
  }

  // The seconds a refusal asks to wait (Retry-After, in seconds as this server sends it), or 0.
  function retryAfter(response) {
    const seconds = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  }

  // The page's sentence for an API error code. A request the server found wrong comes with its
  // own sentence saying what to fix: shown as it is on an English page, where it is in the
  // page's language; elsewhere the catalog's. Too many attempts: the wait the server asks for,
  // in whole minutes.
  function sentenceFor(code, description, wait) {
    if (code === "rate_limited" && wait > 0) {
      return t("js.common.rate_limited", { count: Math.ceil(wait / 60) });
    }
    if (code === "invalid_request" && description && english) return description;
    if (has("error." + code)) return t("error." + code);
    if (description && english) return description;
    return t("error.server_error");
  }

  // --- base64url <-> bytes, for browsers without parse*FromJSON / toJSON ---
  function toBytes(b64url) {
    const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  function toB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    const o = Object.assign({}, json);
    o.challenge = toBytes(json.challenge);
    o.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    o.excludeCredentials = (json.excludeCredentials || []).map((c) => Object.assign({}, c, { id: toBytes(c.id) }));
    return o;
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    const o = Object.assign({}, json);
    o.challenge = toBytes(json.challenge);
    o.allowCredentials = (json.allowCredentials || []).map((c) => Object.assign({}, c, { id: toBytes(c.id) }));
    return o;
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") {
      try { return cred.toJSON(); } catch (e) { /* fall through */ }
    }
    const r = cred.response;
    const json = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      json.response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) json.response.transports = r.getTransports();
    } else {
      json.response.authenticatorData = toB64url(r.authenticatorData);
      json.response.signature = toB64url(r.signature);
      if (r.userHandle) json.response.userHandle = toB64url(r.userHandle);
    }
    return json;
  }

  function supported() {
    return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
  }

  // Creates a passkey: begin → navigator.credentials.create → finish. Returns finish's answer.
  // near: the control used, where a request to confirm with a passkey is shown.
  async function create(beginPath, finishPath, beginBody, near) {
    // After a confirmation with a passkey comes a second prompt: the words say what it is for.
    const begin = await call("POST", beginPath, beginBody || {}, near, t("js.common.confirmed_now_create"));
    const cred = await navigator.credentials.create({ publicKey: creationOptions(begin.publicKey) });
    return call("POST", finishPath, credentialJSON(cred), near);
  }

  // Signs in: begin → navigator.credentials.get → finish. A refusal by finish carries the id
  // of the passkey used (error.credentialId), for the Signal API.
  async function signIn(beginBody, extra) {
    const begin = await call("POST", "/webauthn/login/begin", beginBody || {});
    const options = Object.assign({ publicKey: requestOptions(begin.publicKey) }, extra || {});
    const cred = await navigator.credentials.get(options);
    try {
      return await call("POST", "/webauthn/login/finish", credentialJSON(cred));
    } catch (e) {
      if (e instanceof ApiError) e.credentialId = cred.id;
      throw e;
    }
  }

  // WebAuthn Level 3 Signal API (PublicKeyCredential.signalUnknownCredential, …): tells the
  // person's passkey provider what this site knows. Feature-detected: a no-op where absent, and
  // a failure or rejection never reaches the page. Answers {called, ok, error}.
  async function signal(method, options) {
    try {
      if (typeof window.PublicKeyCredential !== "function"
          || typeof window.PublicKeyCredential[method] !== "function") {
        return { called: false, ok: false, error: "" };
      }
      await window.PublicKeyCredential[method](options);
      return { called: true, ok: true, error: "" };
    } catch (e) {
      return { called: true, ok: false, error: (e && e.name) || "Error" };
    }
  }

  // The sentence for any failure: API codes, DOMExceptions from the passkey prompt, the rest.
  // A prompt the person closed (NotAllowedError) gets the next step of the ceremony it belongs
  // to: the confirmation asked on the way (Passkeys.call), else `cancelled`, the caller's
  // sentence, else the sign-in page's advice.
  function explain(error, cancelled) {
    if (error instanceof ApiError) return error.message;
    if (error && error.name === "NotAllowedError") {
      if (error.during === "reauth") return t("js.cancelled.reauth");
      if (cancelled) return cancelled;
    }
    if (error && typeof error.name === "string" && /^\w+$/.test(error.name) && has("dom." + error.name)) {
      return t("dom." + error.name);
    }
    if (!supported()) return t("dom.unsupported");
    return t("error.unknown");
  }

  // Says what went wrong, beside near (the control used) when given; `cancelled` is what to do
  // next when the person closed the passkey prompt (see explain).
  function fail(error, near, cancelled) {
    if (error && error.name === "AbortError") return;
    say(explain(error, cancelled), error && error.name === "NotAllowedError" ? "" : "error", near);
    if (error && error.code === "login_required") sessionEnded();
  }

  // A page that showed a signed-in person says the session ended, stops saying who is signed
  // in, and puts the way back in under the focus.
  function sessionEnded() {
    const ended = document.getElementById("session-ended");
    if (!ended) return;
    ended.hidden = false;
    const who = document.getElementById("account-who");
    if (who) who.hidden = true;
    ended.querySelector("a").focus();
  }

  // Only same-site paths as destinations after sign-in (never another site).
  function safeNext(next) {
    // The server has already checked it; this only refuses what no server check would pass.
    return typeof next === "string" && /^\/(?!\/)[^\\\s\x00-\x1f\x7f]*$/.test(next) ? next : "/account";
  }

  // A button is disabled while its action runs. A focused button that is disabled loses the
  // focus to the page (the browser's focus fixup), so it gets it back afterwards, unless the
  // action has put the focus somewhere on purpose.
  const hadFocus = new WeakSet();
  function busy(button, on) {
    if (!button) return;
    if (on) {
      if (document.activeElement === button) hadFocus.add(button);
      button.disabled = true;
      return;
    }
    button.disabled = false;
    const lost = !document.activeElement || document.activeElement === document.body;
    if (hadFocus.has(button) && lost && button.isConnected && !button.closest("[hidden]")) {
      button.focus();
    }
    hadFocus.delete(button);
  }

  return {
    call, create, signIn, signal, say, fail, explain, supported, safeNext, busy, ApiError,
    t, has, parts, lang, english,
  };
})();
