"use strict";
(() => {
  const form = document.getElementById("register-form");
  if (!form) return; // sign-up is closed: the page only says so
  // An invitation (from ?invite=) travels only in register/begin's body.
  const invite = document.getElementById("invite");

  // A field's error goes under the field, is read with it (aria-describedby) and marks it
  // invalid (aria-invalid); the status box above says it too.
  function fieldError(name, sentence) {
    const input = form.elements[name];
    const note = document.getElementById(name + "-error");
    if (!input || !note) return false;
    note.textContent = sentence;
    note.hidden = false;
    input.setAttribute("aria-invalid", "true");
    const help = document.getElementById(name + "-help");
    input.setAttribute("aria-describedby", (help ? help.id + " " : "") + note.id);
    return true;
  }

  function clearError(name) {
    const input = form.elements[name];
    const note = document.getElementById(name + "-error");
    if (!input || !note) return;
    note.hidden = true;
    note.textContent = "";
    input.removeAttribute("aria-invalid");
    const help = document.getElementById(name + "-help");
    if (help) input.setAttribute("aria-describedby", help.id); else input.removeAttribute("aria-describedby");
  }

  // The server's words name the field they are about.
  function fieldOf(sentence) {
    if (/username/i.test(sentence)) return "username";
    if (/email/i.test(sentence)) return "email";
    if (/display name/i.test(sentence)) return "display_name";
    return "";
  }

  const ALLOWED = /^[a-z0-9._@+-]*$/;
  const CHARACTERS = "A username may contain only letters a-z, digits and . _ - @ +";
  // The allowed characters are checked as the person types (the length only on submit).
  if (!form.username.readOnly) {
    form.username.addEventListener("input", () => {
      const value = form.username.value.trim().toLowerCase();
      if (ALLOWED.test(value)) clearError("username"); else fieldError("username", CHARACTERS);
    });
  }
  for (const name of ["email", "display_name"]) {
    if (form.elements[name]) form.elements[name].addEventListener("input", () => clearError(name));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = form.username.value.trim();
    if (username.length < 3 || !ALLOWED.test(username.toLowerCase())) {
      const sentence = username.length < 3 ? "A username must be 3 to 64 characters long." : CHARACTERS;
      Passkeys.say(sentence, "error");
      fieldError("username", sentence);
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
      const field = e && e.code === "username_taken" ? "username"
        : e && e.code === "invalid_request" ? fieldOf(e.message) : "";
      if (field && fieldError(field, e.message) && !form.elements[field].readOnly) {
        form.elements[field].focus();
      }
    } finally {
      Passkeys.busy(submit, false);
    }
  });
})();
