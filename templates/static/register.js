"use strict";
(() => {
  const form = document.getElementById("register-form");
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
    const submit = form.querySelector("button");
    Passkeys.busy(submit, true);
    Passkeys.say("Follow your browser's prompt to create a passkey…");
    try {
      await Passkeys.create("/webauthn/register/begin", "/webauthn/register/finish", body);
      Passkeys.say("Passkey created.", "ok");
      window.location.assign("/account?welcome=1");
    } catch (e) {
      Passkeys.fail(e);
      if (e && e.code === "username_taken") form.username.focus();
    } finally {
      Passkeys.busy(submit, false);
    }
  });
})();
