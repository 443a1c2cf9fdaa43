"use strict";
// Three ways in, on one page: passkey autofill (conditional mediation), the "Sign in with a
// passkey" button (usernameless), and username-first for security keys.
(() => {
  const root = document.getElementById("login");
  const next = root ? root.dataset.next : "";
  const rpId = root ? root.dataset.rpId : "";
  const button = document.getElementById("passkey-signin");
  const form = document.getElementById("username-form");
  let autofill = null; // AbortController of the pending conditional request

  function done(result) {
    Passkeys.say("Signed in.", "ok");
    window.location.assign(result && result.redirect ? result.redirect : Passkeys.safeNext(next));
  }

  // The server does not know the passkey just used (deleted, or its account is gone): tell the
  // passkey provider, which may then hide it. Fire and forget; never in the way.
  function forgetUnknown(error) {
    if (!error || error.status !== 401 || error.code !== "unknown_credential") return;
    if (!error.credentialId || !rpId) return;
    Passkeys.signal("signalUnknownCredential", { rpId, credentialId: error.credentialId });
  }

  function stopAutofill() {
    if (autofill) {
      autofill.abort();
      autofill = null;
    }
  }

  async function startAutofill() {
    if (!Passkeys.supported() || !PublicKeyCredential.isConditionalMediationAvailable) return;
    if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
    autofill = new AbortController();
    try {
      const result = await Passkeys.signIn({}, { mediation: "conditional", signal: autofill.signal });
      done(result);
    } catch (e) {
      // Aborted (the button or the form took over), or nothing to offer: stay quiet, the
      // person has not asked for anything yet.
      if (e && (e.name === "AbortError" || e.name === "NotAllowedError")) return;
      forgetUnknown(e);
      Passkeys.fail(e);
    }
  }

  const tryAgain = document.getElementById("try-again");
  let lastAttempt = {};

  async function withPasskey(body) {
    stopAutofill();
    lastAttempt = body;
    tryAgain.hidden = true;
    if (!Passkeys.supported()) {
      Passkeys.say(Passkeys.explain(new Error()), "error");
      return;
    }
    busy(true);
    Passkeys.say("Follow your browser's passkey prompt…");
    try {
      done(await Passkeys.signIn(body));
    } catch (e) {
      forgetUnknown(e);
      Passkeys.fail(e);
      if (e && e.name === "NotAllowedError") {
        // The same words whether or not the username exists; the next step is one press away.
        tryAgain.hidden = false;
        tryAgain.focus();
      }
      startAutofill();
    } finally {
      busy(false);
    }
  }

  function busy(on) {
    Passkeys.busy(button, on);
    Passkeys.busy(form.querySelector("button"), on);
  }

  button.addEventListener("click", () => withPasskey({}));
  tryAgain.addEventListener("click", () => withPasskey(lastAttempt));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const username = form.username.value.trim();
    if (!username) {
      Passkeys.say("Enter your username, or use the “Sign in with a passkey” button.", "error");
      form.username.focus();
      return;
    }
    withPasskey({ username });
  });
  startAutofill();
})();
