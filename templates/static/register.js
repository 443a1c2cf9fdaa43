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

  // The server's words name the field they are about (its words are English: used only on an
  // English page; the checks below come first, in the page's language, on every page).
  function fieldOf(sentence) {
    if (/username/i.test(sentence)) return "username";
    if (/email/i.test(sentence)) return "email";
    if (/display name/i.test(sentence)) return "display_name";
    return "";
  }

  // A username an invitation names is shown as text, with a hidden field: nothing to type.
  const pinned = form.username.type === "hidden";
  const ALLOWED = /^[a-z0-9._@+-]*$/;
  const CONTROL = /\p{Cc}/u;
  // The allowed characters are checked as the person types (the length only on submit).
  if (!pinned) {
    form.username.addEventListener("input", () => {
      const value = form.username.value.trim().toLowerCase();
      if (ALLOWED.test(value)) clearError("username");
      else fieldError("username", Passkeys.t("js.register.username_characters"));
    });
  }
  for (const name of ["email", "display_name"]) {
    if (form.elements[name]) form.elements[name].addEventListener("input", () => clearError(name));
  }

  // The server's rules, checked before the request: [field, catalog key] of the first problem.
  function problem(username, displayName, email) {
    const name = username.toLowerCase();
    const length = Array.from(name).length;
    if (length < 3 || length > 64) return ["username", "js.register.username_length"];
    if (!ALLOWED.test(name)) return ["username", "js.register.username_characters"];
    if (!/^[a-z0-9]/.test(name)) return ["username", "js.register.username_start"];
    if (displayName && (Array.from(displayName).length > 64 || CONTROL.test(displayName))) {
      return ["display_name", "js.register.display_name_length"];
    }
    if (email && !emailShape(email)) return ["email", "js.register.email_invalid"];
    return null;
  }

  // Bytes in UTF-8, as the server counts an email address.
  const utf8Length = (text) => Array.from(text).reduce((n, c) => {
    const point = c.codePointAt(0);
    return n + (point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4);
  }, 0);

  // At most 254 bytes, no spaces, something@something.something.
  function emailShape(email) {
    if (utf8Length(email) > 254) return false;
    if (/\s/.test(email) || CONTROL.test(email)) return false;
    const at = email.indexOf("@");
    if (at < 1) return false;
    const domain = email.slice(at + 1);
    return domain.includes(".") && !domain.includes("@") && !domain.startsWith(".") && !domain.endsWith(".");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("button");
    const username = form.username.value.trim();
    const displayName = form.display_name.value.trim();
    const email = form.email.value.trim();
    // Each submit says what is wrong now: earlier sentences go first.
    for (const name of ["username", "display_name", "email"]) clearError(name);
    const wrong = problem(username, displayName, email);
    if (wrong) {
      const [field, key] = wrong;
      const sentence = Passkeys.t(key);
      Passkeys.say(sentence, "error", submit);
      fieldError(field, sentence);
      form.elements[field].focus();
      return;
    }
    if (!Passkeys.supported()) {
      Passkeys.say(Passkeys.explain(new Error()), "error", submit);
      return;
    }
    const body = { username };
    if (displayName) body.display_name = displayName;
    if (email) body.email = email;
    if (invite && invite.value) body.invite = invite.value;
    Passkeys.busy(submit, true);
    Passkeys.say(Passkeys.t("js.common.follow_create_prompt"), "", submit);
    try {
      await Passkeys.create("/webauthn/register/begin", "/webauthn/register/finish", body, submit);
      Passkeys.say(Passkeys.t("js.register.created"), "ok", submit);
      // From a service's sign-in: back to it (its waiting request answers with a code);
      // otherwise the account page and its welcome checklist.
      const next = form.dataset.next;
      window.location.assign(next ? Passkeys.safeNext(next) : "/account?welcome=1");
    } catch (e) {
      Passkeys.fail(e, submit, Passkeys.t("js.cancelled.sign_up"));
      const field = e && e.code === "username_taken" ? "username"
        : e && e.code === "invalid_request" && Passkeys.english ? fieldOf(e.message) : "";
      if (field && fieldError(field, e.message) && form.elements[field].type !== "hidden") {
        form.elements[field].focus();
      }
    } finally {
      Passkeys.busy(submit, false);
    }
  });
})();
