"use strict";
(() => {
  const form = document.getElementById("register-form");
  if (!form) return; // sign-up is closed: the page only says so
  // An invitation (from ?invite=) travels only in register/begin's body.
  const invite = document.getElementById("invite");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = form.username.value.trim();
    if (username.length < 3) {
      Passkeys.say("Choose a username of at least 3 characters.", "error");
      form.username.focus();
      return;
    }
    if (!Passkeys.supported()) {
      Passkeys.say(Passkeys.explain(new Error()), "error");
      return;
    }
    const body = { username };
    if (form.display_name.value.trim()) body.display_name = form.display_name.value.trim();
    if (form.email.value.trim()) body.email = form.email.value.trim();
    if (invite && invite.value) body.invite = invite.value;
    const submit = form.querySelector("button");
    Passkeys.busy(submit, true);
    Passkeys.say("Follow your browser's prompt to create a passkey…");
    try {
      await Passkeys.create("/webauthn/register/begin", "/webauthn/register/finish", body);
      Passkeys.say("Passkey created.", "ok");
      window.location.assign("/account?welcome=1");
    } catch (e) {
      Passkeys.fail(e);
      if (e && e.code === "username_taken" && !form.username.readOnly) form.username.focus();
    } finally {
      Passkeys.busy(submit, false);
    }
  });
})();
