// Shared by every page: JSON calls, WebAuthn option/response conversion, and words a person
// can act on for every error. No framework, no build step.
"use strict";

const Passkeys = (() => {
  const MESSAGES = {
    username_taken: "That username is taken. Choose another, or sign in if it's yours.",
    challenge_expired: "That took too long, or the request was already used. Please try again.",
    challenge_mismatch: "Something got out of step. Please try again.",
    reauthentication_required: "For your security, confirm it's you with your passkey, then try again.",
    origin_mismatch: "The passkey prompt didn't come from this site. Open this site directly and try again.",
    rp_id_mismatch: "That passkey belongs to a different site. Use a passkey made for this one.",
    user_verification_required: "Your device didn't confirm it's you (PIN, fingerprint or face). Try again and complete the check.",
    invalid_attestation: "Your authenticator's answer couldn't be verified. Try again, or use another device.",
    invalid_request: "Something about that request was wrong. Reload the page and try again.",
    credential_exists: "This device already has a passkey for your account. Use another device or security key.",
    unknown_credential: "We don't recognise that passkey: it may have been deleted, or belong to another account. Try another passkey, or create an account.",
    invalid_signature: "That passkey couldn't be verified. Try again, or use another passkey.",
    counter_regression: "That passkey may have been copied, so we didn't accept it. Use another passkey and check your account.",
    rate_limited: "Too many attempts. Wait a minute and try again.",
    last_credential: "This is your only passkey, so it can't be deleted. Add another passkey first.",
    invalid_recovery_code: "That username and recovery code don't match, or the code was already used. Check both and try again.",
    login_required: "Your session has ended. Sign in again to continue.",
    registration_closed: "Sign-up is closed, or this invitation was already used or has expired. Ask an administrator for a new invitation.",
    account_disabled: "This account is disabled. Ask your administrator to enable it again.",
    not_found: "That passkey is no longer on your account. Reload the page.",
    temporarily_unavailable: "The service is briefly unavailable. Try again in a few seconds.",
    server_error: "Something went wrong on our side. Try again shortly.",
  };

  const DOM_MESSAGES = {
    NotAllowedError: "The passkey prompt closed without a passkey. If this device has none for your account, choose another device or a security key in the prompt, or use a recovery code.",
    InvalidStateError: "This device already has a passkey for this account. Use another device or security key.",
    SecurityError: "Passkeys can't be used on this page. Open the site at its usual address.",
    NotSupportedError: "This device or browser can't create that kind of passkey.",
    ConstraintError: "Your device can't verify you (no screen lock or PIN is set up). Set one up and try again.",
  };

  const statusBox = () => document.getElementById("status");

  function say(message, kind) {
    const box = statusBox();
    if (!box) return;
    box.className = "status" + (kind ? " " + kind : "");
    box.textContent = message; // textContent: never HTML, whatever the message holds
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
  // a passkey (the page says why), and the action is tried once more.
  async function call(method, path, body) {
    try {
      return await request(method, path, body);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== "reauthentication_required") throw e;
      say("For your security, confirm it's you with your passkey.", "note");
      const begin = await request("POST", "/account/reauth/begin", {});
      const cred = await navigator.credentials.get({ publicKey: requestOptions(begin.publicKey) });
      await request("POST", "/account/reauth/finish", credentialJSON(cred));
      say("", "");
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
      throw new ApiError("network", "We couldn't reach the server. Check your connection and try again.");
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const code = (data && data.error) || "server_error";
      const description = data && typeof data.error_description === "string" ? data.error_description : "";
      // A request the server found wrong comes with its own sentence saying what to fix.
      const sentence = code === "invalid_request" && description ? description : MESSAGES[code];
      throw new ApiError(code, sentence || description || MESSAGES.server_error, description, response.status);
    }
    return data;
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
  async function create(beginPath, finishPath, beginBody) {
    const begin = await call("POST", beginPath, beginBody || {});
    const cred = await navigator.credentials.create({ publicKey: creationOptions(begin.publicKey) });
    return call("POST", finishPath, credentialJSON(cred));
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
  function explain(error) {
    if (error instanceof ApiError) return error.message;
    if (error && DOM_MESSAGES[error.name]) return DOM_MESSAGES[error.name];
    if (!supported()) return "This browser doesn't support passkeys. Update it, or use another browser or device.";
    return "Something went wrong. Please try again.";
  }

  function fail(error) {
    if (error && error.name === "AbortError") return;
    say(explain(error), error && error.name === "NotAllowedError" ? "" : "error");
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

  function busy(button, on) {
    if (button) button.disabled = on;
  }

  return { call, create, signIn, signal, say, fail, explain, supported, safeNext, busy, ApiError };
})();
