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

  // near: the control used (the button, or the username form), where the words are shown.
  function done(result, near) {
    Passkeys.say(Passkeys.t("js.login.signed_in"), "ok", near);
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
      done(result, form);
    } catch (e) {
      // Aborted (the button or the form took over), or nothing to offer: stay quiet, the
      // person has not asked for anything yet.
      if (e && (e.name === "AbortError" || e.name === "NotAllowedError")) return;
      forgetUnknown(e);
      Passkeys.fail(e, form); // autofill is offered in the username field
    }
  }

  const tryAgain = document.getElementById("try-again");
  let lastAttempt = {};

  // near: the control used: the passkey button, or the username form.
  async function withPasskey(body, near) {
    stopAutofill();
    lastAttempt = body;
    tryAgain.hidden = true;
    if (!Passkeys.supported()) {
      Passkeys.say(Passkeys.explain(new Error()), "error", near);
      return;
    }
    busy(true);
    Passkeys.say(Passkeys.t("js.common.follow_prompt"), "", near);
    try {
      done(await Passkeys.signIn(body), near);
    } catch (e) {
      forgetUnknown(e);
      if (e && e.name === "NotAllowedError") {
        // The same words whether or not the username exists; the next step is one press away,
        // and the words are beside it.
        tryAgain.hidden = false;
        Passkeys.fail(e, tryAgain);
        tryAgain.focus();
      } else {
        Passkeys.fail(e, near);
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

  button.addEventListener("click", () => withPasskey({}, button));
  // Try again hides itself: its words go where it was, just under the passkey button.
  tryAgain.addEventListener("click", () => withPasskey(lastAttempt, button));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const username = form.username.value.trim();
    if (!username) {
      Passkeys.say(Passkeys.t("js.login.username_missing"), "error", form);
      form.username.focus();
      return;
    }
    withPasskey({ username }, form);
  });
  startAutofill();
})();
