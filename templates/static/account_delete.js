"use strict";
// The account page's "Delete my account": ask first, then delete (confirming with a passkey
// when the sign-in is old) and go to the signed-out page, which then says the account is gone.
(() => {
  const t = Passkeys.t;
  const { showError } = AccountPage;

  const deleteButton = document.querySelector('[data-action="delete-account"]');
  const deleteConfirm = document.getElementById("delete-confirm");

  function askDelete() {
    deleteConfirm.hidden = false;
    deleteButton.setAttribute("aria-expanded", "true");
    document.getElementById("delete-confirm-text").focus(); // read the warning first
  }

  function cancelDelete() {
    deleteConfirm.hidden = true;
    deleteButton.setAttribute("aria-expanded", "false");
    deleteButton.focus();
  }

  // The signed-out page says the account was deleted only when this tab's account page just
  // deleted it: a mark in this tab's session storage, read once (signed_out.js), that no link
  // can set.
  const DELETED = "passkey-idp:account-deleted";

  async function deleteAccount(trigger) {
    Passkeys.busy(trigger, true);
    Passkeys.say(t("js.account.deleting_account"), "", trigger);
    try {
      // An old sign-in answers reauthentication_required: Passkeys.call asks for the passkey
      // and tries once more.
      await Passkeys.call("DELETE", "/account", undefined, trigger);
      for (const b of document.querySelectorAll("main button")) b.disabled = true;
      Passkeys.say(t("js.account.account_deleted"), "ok", trigger);
      // The buttons are off: the focus goes to the page, which stays where the words are.
      document.getElementById("main").focus({ preventScroll: true });
      try {
        window.sessionStorage.setItem(DELETED, "1");
      } catch (e) {
        // No session storage: the signed-out page says only that.
      }
      setTimeout(() => window.location.assign("/signed-out"), 800);
    } catch (e) {
      showError(e, trigger);
      Passkeys.busy(trigger, false);
    }
  }

  AccountPage.act({
    "delete-account": () => askDelete(),
    "cancel-delete-account": () => cancelDelete(),
    "confirm-delete-account": (target) => deleteAccount(target),
  });
})();
