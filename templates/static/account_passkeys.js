"use strict";
// The account page's passkeys: add one (and the "Passkey added" words after the reload that
// follows), rename one, delete one.
(() => {
  const t = Passkeys.t;
  const { rowSpot, spotFor } = AccountPage;
  const signal = AccountPage.use("signal");

  const addButton = () => document.querySelector('#passkeys ~ [data-action="add-passkey"]');

  // A message that outlives a reload ("Passkey added" beside the new passkey's row).
  const FLASH = "passkey-idp:flash";

  function reloadWith(flash, url) {
    try {
      window.sessionStorage.setItem(FLASH, JSON.stringify(flash));
    } catch (e) {
      // No session storage: just reload.
    }
    if (url) window.location.assign(url); else window.location.reload();
  }

  function showFlash() {
    let flash = null;
    try {
      const saved = window.sessionStorage.getItem(FLASH);
      if (saved === null) return;
      window.sessionStorage.removeItem(FLASH);
      flash = JSON.parse(saved);
    } catch (e) {
      return;
    }
    if (!flash || typeof flash.message !== "string" || !flash.message) return;
    const row = Array.from(document.querySelectorAll("#passkeys .passkey"))
      .find((item) => item.dataset.id === String(flash.id));
    Passkeys.say(flash.message, "ok", row ? rowSpot(row) : addButton());
    const rename = row && row.querySelector('[data-action="rename"]');
    if (rename) rename.focus();
  }

  async function addPasskey(button) {
    const near = spotFor(button);
    Passkeys.busy(button, true);
    Passkeys.say(t("js.common.follow_create_prompt"), "", near);
    try {
      const result = await Passkeys.create("/account/credentials/begin", "/account/credentials/finish", undefined, near);
      const name = result.credential.name;
      Passkeys.say(t("js.account.passkey_added_reloading", { name }), "ok", near);
      // After the reload the words stay, beside the new passkey.
      const flash = { message: t("js.account.passkey_added", { name }), id: result.credential.id };
      // The welcome checklist stays (ticked) until both of its steps are done.
      const checklist = document.getElementById("welcome");
      setTimeout(() => reloadWith(flash, checklist ? "/account?welcome" : ""), 600);
    } catch (e) {
      Passkeys.fail(e, near, t("js.cancelled.add_passkey"));
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

  // Cancel (Keep) and Escape close an inline editor, and the focus goes back to the row's
  // button that opened it, not to the page.
  function closable(form, item, action) {
    const close = () => {
      closeInline(item);
      const opener = item.querySelector('[data-action="' + action + '"]');
      if (opener) opener.focus();
    };
    form.querySelector(".cancel").addEventListener("click", close);
    form.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      close();
    });
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
      label.textContent = t("js.account.new_name");
      const input = document.createElement("input");
      input.type = "text";
      input.name = "name";
      input.maxLength = 64;
      input.value = item.dataset.name;
      input.id = "rename-" + item.dataset.id;
      label.htmlFor = input.id;
      f.append(label, input, button(t("js.account.save"), "submit", "primary"), button(t("js.account.cancel"), "button", "cancel"));
    });
    closable(form, item, "rename");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = form.elements.name.value.trim();
      // The server's rule, checked first so that the words are in the page's language.
      const length = Array.from(name).length;
      if (length < 1 || length > 64 || /\p{Cc}/u.test(name)) {
        Passkeys.say(t("js.account.name_invalid"), "error", rowSpot(item));
        form.elements.name.focus();
        return;
      }
      try {
        await Passkeys.call("PATCH", "/account/credentials/" + encodeURIComponent(item.dataset.id), { name }, rowSpot(item));
        item.querySelector(".name").textContent = name;
        item.dataset.name = name;
        labelRow(item);
        closeInline(item);
        Passkeys.say(t("js.account.renamed", { name }), "ok", rowSpot(item));
        // Back to where the person was: the row's Rename button.
        item.querySelector('[data-action="rename"]').focus();
      } catch (e) {
        Passkeys.fail(e, rowSpot(item));
      }
    });
  }

  // The row's buttons say which passkey they act on (after a rename, the new name).
  function labelRow(item) {
    const name = item.dataset.name;
    const rename = item.querySelector('[data-action="rename"]');
    if (rename) rename.setAttribute("aria-label", t("js.account.rename_label", { name }));
    const remove = item.querySelector('[data-action="delete"]');
    if (remove) remove.setAttribute("aria-label", t("js.account.delete_label", { name }));
  }

  function startDelete(item) {
    const form = inlineForm(item, "confirm-delete", (f) => {
      const p = document.createElement("p");
      p.textContent = t("js.account.delete_question", { name: item.dataset.name });
      f.append(p, button(t("js.account.delete_yes"), "submit", "danger"), button(t("js.account.delete_keep"), "button", "cancel"));
    });
    closable(form, item, "delete");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await Passkeys.call("DELETE", "/account/credentials/" + encodeURIComponent(item.dataset.id), undefined, rowSpot(item));
        const name = item.dataset.name;
        // Focus goes to the next passkey (or the one before), not to the page.
        const neighbour = item.nextElementSibling || item.previousElementSibling;
        const list = item.parentElement;
        item.remove();
        onlyOneLeft();
        // Where the row was: under the list.
        Passkeys.say(t("js.account.deleted", { name }), "ok", list);
        const target = neighbour && neighbour.querySelector("button");
        (target || document.querySelector('[data-action="add-passkey"]')).focus();
        // The passkey provider learns that this one is gone (account_signal.js).
        signal();
      } catch (e) {
        closeInline(item);
        Passkeys.fail(e, rowSpot(item));
      }
    });
  }

  // The last passkey cannot be deleted: its Delete button goes, and a sentence says why.
  function onlyOneLeft() {
    const items = document.querySelectorAll("#passkeys .passkey");
    if (items.length !== 1) return;
    items[0].querySelectorAll('[data-action="delete"]').forEach((b) => b.remove());
    document.getElementById("only-passkey").hidden = false;
  }

  AccountPage.act({
    "add-passkey": (target) => addPasskey(target),
    rename: (target) => startRename(target.closest(".passkey")),
    delete: (target) => startDelete(target.closest(".passkey")),
  });

  showFlash();
})();
