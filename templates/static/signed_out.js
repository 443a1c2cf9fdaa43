"use strict";
// The signed-out page: its Sign out form (when the browser's session still lives, or a service
// asked), and the words that the account is deleted, right after the account page deleted it.
(() => {
  // Sign out is a form (a same-origin POST /logout), so that it works without JavaScript. With
  // it, the page signs out by JSON and goes to the signed-out page only once the session has
  // ended; a sign-out that failed is said beside the button, and the page stays. (The account
  // page's form does the same, in account_sessions.js.)
  async function logout(form) {
    const submit = form.querySelector("button[type=submit]");
    Passkeys.busy(submit, true);
    try {
      await Passkeys.call("POST", "/logout");
      window.location.assign("/signed-out");
    } catch (e) {
      Passkeys.fail(e, submit);
      Passkeys.busy(submit, false);
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target.closest('form[action="/logout"]');
    if (!form) return;
    event.preventDefault();
    logout(form);
  });

  // The page says the account was deleted only when this tab's account page just deleted it:
  // a mark in this tab's session storage (account_delete.js sets it), read once, that no link
  // can set.
  const DELETED = "passkey-idp:account-deleted";

  function showDeleted() {
    const deleted = document.getElementById("account-deleted");
    if (!deleted) return;
    let marked = false;
    try {
      marked = window.sessionStorage.getItem(DELETED) !== null;
      window.sessionStorage.removeItem(DELETED);
    } catch (e) {
      return;
    }
    if (!marked) return;
    document.getElementById("signed-out-note").hidden = true;
    deleted.hidden = false;
    document.title = deleted.dataset.title;
  }

  showDeleted();
})();
