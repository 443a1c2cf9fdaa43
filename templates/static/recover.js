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

  // The recovery session lasts a few minutes from the moment the code or link is accepted: a
  // closed passkey prompt says how many are left to try again.
  const passkeyStep = document.getElementById("step-passkey");
  const lifetime = Number(passkeyStep.dataset.lifetimeSecs || "0") * 1000;
  let acceptedAt = 0;
  const minutesLeft = () => Math.max(1, Math.ceil((lifetime - (Date.now() - acceptedAt)) / 60000));

  // The next step's button has the focus, and the words are beside it.
  function accepted(message) {
    acceptedAt = Date.now();
    show("step-passkey");
    const next = document.getElementById("create-passkey");
    Passkeys.say(message, "ok", next);
    next.focus();
  }

  const form = document.getElementById("recover-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const username = form.username.value.trim();
      const code = form.code.value.trim();
      const submit = form.querySelector("button");
      if (!username || !code) {
        Passkeys.say(Passkeys.t("js.recover.missing"), "error", submit);
        return;
      }
      Passkeys.busy(submit, true);
      try {
        await Passkeys.call("POST", "/recover", { username, code });
        form.code.value = "";
        accepted(Passkeys.t("js.recover.code_accepted"));
      } catch (e) {
        Passkeys.fail(e, submit);
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
        accepted(Passkeys.t("js.recover.link_accepted"));
      } catch (e) {
        if (e && e.code === "invalid_recovery_code") {
          Passkeys.say(Passkeys.t("js.recover.link_invalid"), "error", useLink);
        } else {
          Passkeys.fail(e, useLink);
        }
      } finally {
        Passkeys.busy(useLink, false);
      }
    });
  }

  const create = document.getElementById("create-passkey");
  create.addEventListener("click", async () => {
    Passkeys.busy(create, true);
    Passkeys.say(Passkeys.t("js.common.follow_create_prompt"), "", create);
    try {
      await Passkeys.create("/account/credentials/begin", "/account/credentials/finish", undefined, create);
      show("step-done");
      // The step that says so replaces the button's: the words go under it.
      Passkeys.say(Passkeys.t("js.recover.passkey_created"), "ok", document.getElementById("step-done"));
      document.getElementById("signin-link").focus();
    } catch (e) {
      // What was used to get in is spent; the session it opened is not, yet.
      const spent = link ? "js.cancelled.recovery_link" : "js.cancelled.recovery_code";
      Passkeys.fail(e, create, Passkeys.t(spent, { count: minutesLeft() }));
    } finally {
      Passkeys.busy(create, false);
    }
  });
})();
