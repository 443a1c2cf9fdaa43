"use strict";
(() => {
  // The welcome box is shown once: drop ?welcome from the address so a reload does not repeat it.
  if (window.location.search.includes("welcome")) {
    window.history.replaceState(null, "", "/account");
  }

  async function addPasskey(button) {
    Passkeys.busy(button, true);
    Passkeys.say("Follow your browser's prompt to create a passkey…");
    try {
      const result = await Passkeys.create("/account/credentials/begin", "/account/credentials/finish");
      Passkeys.say("Passkey added: " + result.credential.name + ". Reloading…", "ok");
      setTimeout(() => window.location.reload(), 600);
    } catch (e) {
      Passkeys.fail(e);
    } finally {
      Passkeys.busy(button, false);
    }
  }

  // Inline editors instead of window.prompt/confirm: keyboard-friendly, and nothing blocks.
  function inlineForm(item, className, build) {
    closeInline(item);
    const form = document.createElement("form");
    form.className = "inline " + className;
    build(form);
    item.querySelector(".details").appendChild(form);
    const first = form.querySelector("input, button");
    if (first) first.focus();
    return form;
  }

  function closeInline(item) {
    const open = item.querySelector("form.inline");
    if (open) open.remove();
  }

  function button(label, type, extra) {
    const b = document.createElement("button");
    b.type = type;
    b.textContent = label;
    if (extra) b.className = extra;
    return b;
  }

  function startRename(item) {
    const form = inlineForm(item, "rename", (f) => {
      const label = document.createElement("label");
      label.textContent = "New name";
      const input = document.createElement("input");
      input.type = "text";
      input.name = "name";
      input.maxLength = 64;
      input.value = item.dataset.name;
      input.id = "rename-" + item.dataset.id;
      label.htmlFor = input.id;
      f.append(label, input, button("Save", "submit", "primary"), button("Cancel", "button", "cancel"));
    });
    form.querySelector(".cancel").addEventListener("click", () => closeInline(item));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = form.name.value.trim();
      try {
        await Passkeys.call("PATCH", "/account/credentials/" + encodeURIComponent(item.dataset.id), { name });
        item.querySelector(".name").textContent = name;
        item.dataset.name = name;
        closeInline(item);
        Passkeys.say("Renamed to " + name + ".", "ok");
      } catch (e) {
        Passkeys.fail(e);
      }
    });
  }

  function startDelete(item) {
    const form = inlineForm(item, "confirm-delete", (f) => {
      const p = document.createElement("p");
      p.textContent = "Delete “" + item.dataset.name + "”? It will no longer sign you in.";
      f.append(p, button("Yes, delete", "submit", "danger"), button("Keep it", "button", "cancel"));
    });
    form.querySelector(".cancel").addEventListener("click", () => closeInline(item));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await Passkeys.call("DELETE", "/account/credentials/" + encodeURIComponent(item.dataset.id));
        const name = item.dataset.name;
        item.remove();
        Passkeys.say("Deleted “" + name + "”.", "ok");
      } catch (e) {
        closeInline(item);
        Passkeys.fail(e);
      }
    });
  }

  async function recoveryCodes(trigger) {
    Passkeys.busy(trigger, true);
    try {
      const result = await Passkeys.call("POST", "/account/recovery-codes");
      const list = document.getElementById("code-list");
      list.replaceChildren(...result.codes.map((code) => {
        const li = document.createElement("li");
        li.textContent = code;
        return li;
      }));
      const box = document.getElementById("codes");
      box.hidden = false;
      document.getElementById("recovery-count").textContent =
        "You have " + result.codes.length + " unused recovery codes.";
      box.scrollIntoView({ block: "nearest" });
      Passkeys.say("New recovery codes made. Save them now: they won't be shown again.", "ok");
    } catch (e) {
      Passkeys.fail(e);
    } finally {
      Passkeys.busy(trigger, false);
    }
  }

  async function logout() {
    try {
      await Passkeys.call("POST", "/logout");
    } finally {
      window.location.assign("/login");
    }
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (!target) return;
    const item = target.closest(".passkey");
    switch (target.dataset.action) {
      case "add-passkey": addPasskey(target); break;
      case "rename": startRename(item); break;
      case "delete": startDelete(item); break;
      case "recovery-codes": recoveryCodes(target); break;
      case "logout": logout(); break;
    }
  });
})();
