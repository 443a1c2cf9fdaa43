"use strict";
(() => {
  const form = document.getElementById("recover-form");
  const show = (id) => {
    for (const step of ["step-code", "step-passkey", "step-done"]) {
      document.getElementById(step).hidden = step !== id;
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = form.username.value.trim();
    const code = form.code.value.trim();
    if (!username || !code) {
      Passkeys.say("Enter your username and a recovery code.", "error");
      return;
    }
    const submit = form.querySelector("button");
    Passkeys.busy(submit, true);
    try {
      await Passkeys.call("POST", "/recover", { username, code });
      form.code.value = "";
      Passkeys.say("Code accepted.", "ok");
      show("step-passkey");
      document.getElementById("create-passkey").focus();
    } catch (e) {
      Passkeys.fail(e);
    } finally {
      Passkeys.busy(submit, false);
    }
  });

  const create = document.getElementById("create-passkey");
  create.addEventListener("click", async () => {
    Passkeys.busy(create, true);
    Passkeys.say("Follow your browser's prompt to create a passkey…");
    try {
      await Passkeys.create("/account/credentials/begin", "/account/credentials/finish");
      Passkeys.say("New passkey created.", "ok");
      show("step-done");
      document.getElementById("signin-link").focus();
    } catch (e) {
      Passkeys.fail(e);
    } finally {
      Passkeys.busy(create, false);
    }
  });
})();
