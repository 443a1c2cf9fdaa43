"use strict";
// Two ways back in: username + recovery code, or a one-time recovery link (/recover?token=…)
// made by an administrator. Either gives a short session that can only add a passkey.
(() => {
  const STEPS = ["step-code", "step-link", "step-passkey", "step-done"];
  const show = (id) => {
    for (const step of STEPS) {
      const el = document.getElementById(step);
      if (el) el.hidden = step !== id;
    }
  };

  function accepted(message) {
    Passkeys.say(message, "ok");
    show("step-passkey");
    document.getElementById("create-passkey").focus();
  }

  const form = document.getElementById("recover-form");
  if (form) {
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
        accepted("Code accepted.");
      } catch (e) {
        Passkeys.fail(e);
      } finally {
        Passkeys.busy(submit, false);
      }
    });
  }

  // The link's token is spent only when the person presses the button, never on page load.
  const link = document.getElementById("step-link");
  const useLink = document.getElementById("use-link");
  if (link && useLink) {
    useLink.addEventListener("click", async () => {
      Passkeys.busy(useLink, true);
      try {
        await Passkeys.call("POST", "/recover", { token: link.dataset.token });
        accepted("Link accepted.");
      } catch (e) {
        if (e && e.code === "invalid_recovery_code") {
          Passkeys.say("This recovery link doesn't work: it was already used, has expired, or was copied incompletely. Ask your administrator for a new one.", "error");
        } else {
          Passkeys.fail(e);
        }
      } finally {
        Passkeys.busy(useLink, false);
      }
    });
  }

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
