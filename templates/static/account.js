"use strict";
(() => {
  const t = Passkeys.t;
  const lang = Passkeys.lang;

  // Times in the person's own terms, in the page's language: "3 minutes ago", the local date
  // and time on hover.
  function localTimes(root) {
    const relative = typeof Intl !== "undefined" && Intl.RelativeTimeFormat
      ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
    root.querySelectorAll("time[datetime]").forEach((el) => {
      const at = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(at.getTime())) return;
      el.title = at.toLocaleString(lang);
      const seconds = (at.getTime() - Date.now()) / 1000;
      const steps = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
      const step = steps.find(([, size]) => Math.abs(seconds) >= size);
      el.textContent = !relative ? at.toLocaleString(lang)
        : step ? relative.format(Math.round(seconds / step[1]), step[0])
        : relative.format(0, "minute");
    });
  }
  localTimes(document);

  // --- Where a message about a control is shown (Passkeys.say's third argument) ---

  // A passkey row: under the row, its own line (inside the <li>, after the row's buttons).
  function rowSpot(item) {
    return item.querySelector(".row-actions") || item.querySelector(".details") || item;
  }

  // A button of the welcome checklist: after the checklist (a list holds only its items,
  // and a ticked step's button is replaced).
  function spotFor(trigger) {
    const welcome = trigger && trigger.closest("#welcome");
    return welcome ? welcome.querySelector("ol") || welcome : trigger;
  }

  const addButton = () => document.querySelector('#passkeys ~ [data-action="add-passkey"]');
  const codesButton = () => document.querySelector('#recovery-title ~ [data-action="recovery-codes"]');

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

  // The welcome box is shown once: drop ?welcome from the address so a reload does not repeat it.
  if (window.location.search.includes("welcome")) {
    window.history.replaceState(null, "", "/account");
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

  // New codes void the unused ones: with some left, ask first.
  function askRecoveryCodes(trigger) {
    const unused = Number(document.getElementById("recovery-count").dataset.unused || "0");
    if (unused === 0) {
      recoveryCodes(trigger);
      return;
    }
    document.getElementById("replace-count").textContent = String(unused);
    document.getElementById("replace-codes").hidden = false;
    document.getElementById("replace-codes-text").focus();
  }

  function keepRecoveryCodes() {
    document.getElementById("replace-codes").hidden = true;
    codesButton().focus();
  }

  function codesText() {
    return Array.from(document.querySelectorAll("#code-list li"), (li) => li.textContent).join("\n");
  }

  // The codes' own buttons: their words go under them, inside the codes box.
  const codeActions = (trigger) => (trigger && trigger.closest(".code-actions")) || trigger;

  async function copyCodes(trigger) {
    try {
      await navigator.clipboard.writeText(codesText() + "\n");
      Passkeys.say(t("js.account.codes_copied"), "ok", codeActions(trigger));
    } catch (e) {
      Passkeys.say(t("js.account.copy_refused"), "error", codeActions(trigger));
    }
  }

  function downloadCodes() {
    const intro = t("js.account.codes_file_intro", { host: window.location.host }) + "\n\n";
    const blob = new Blob([intro + codesText() + "\n"], { type: "text/plain" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = t("js.account.codes_file_name");
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // The welcome checklist's second step, ticked once codes are made.
  function tickCodesStep() {
    const step = document.getElementById("step-codes");
    if (!step || step.classList.contains("done")) return;
    step.classList.add("done");
    const tick = document.createElement("span");
    tick.className = "tick";
    tick.setAttribute("aria-hidden", "true");
    tick.textContent = "✓";
    step.replaceChildren(tick, " ", t("js.account.codes_step_done"));
    const passkeyStep = document.getElementById("step-passkey");
    if (passkeyStep && passkeyStep.classList.contains("done")) {
      document.getElementById("all-set").hidden = false;
    }
  }

  async function recoveryCodes(trigger) {
    document.getElementById("replace-codes").hidden = true;
    // From the welcome checklist, under it; otherwise under the section's button (the
    // confirmation that asked first is hidden now).
    const near = trigger && trigger.closest("#welcome") ? spotFor(trigger) : codesButton();
    Passkeys.busy(trigger, true);
    try {
      const result = await Passkeys.call("POST", "/account/recovery-codes", undefined, near);
      const list = document.getElementById("code-list");
      list.replaceChildren(...result.codes.map((code) => {
        const li = document.createElement("li");
        li.textContent = code;
        return li;
      }));
      const box = document.getElementById("codes");
      box.hidden = false;
      const count = document.getElementById("recovery-count");
      count.textContent = t("js.account.codes_count", { count: result.codes.length });
      count.dataset.unused = String(result.codes.length);
      tickCodesStep();
      codesButton().textContent = t("js.account.make_new_codes");
      // The words just above the codes, the codes in view, and the focus on the first way to
      // keep them.
      Passkeys.say(t("js.account.codes_made"), "ok", codesButton());
      box.scrollIntoView({ block: "nearest" });
      box.querySelector('[data-action="copy-codes"]').focus();
    } catch (e) {
      Passkeys.fail(e, near);
    } finally {
      Passkeys.busy(trigger, false);
    }
  }

  // Sign out is a form (a same-origin POST /logout), so that it works without JavaScript. With
  // it, the page signs out by JSON and goes to the signed-out page only once the session has
  // ended; a sign-out that failed is said beside the button, and the page stays.
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

  // --- Shared by the sections below ---

  // Errors of the account actions: the server's own sentence when it sent one and the page is
  // in English (the server's language); otherwise the page's words for the error.
  function serverWords(e) {
    return Passkeys.english && e instanceof Passkeys.ApiError && e.description ? e.description : "";
  }

  function showError(e, near) {
    const words = serverWords(e);
    if (words) Passkeys.say(words, "error", near);
    else Passkeys.fail(e, near);
  }

  function describe(e) {
    return serverWords(e) || Passkeys.explain(e);
  }

  function span(className, ...children) {
    const el = document.createElement("span");
    el.className = className;
    el.append(...children);
    return el;
  }

  const DATE_FORMAT = (() => {
    try {
      return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      return null;
    }
  })();

  // A time in the person's own time zone; the exact UTC value stays in <time datetime>.
  function timeElement(iso) {
    const el = document.createElement("time");
    const value = String(iso);
    el.dateTime = value;
    // RFC 3339 from the server; a value without a zone is UTC, never local time.
    const date = new Date(/(?:Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : value + "Z");
    if (Number.isNaN(date.getTime())) el.textContent = value;
    else el.textContent = DATE_FORMAT ? DATE_FORMAT.format(date) : date.toLocaleString(lang);
    return el;
  }

  function setNote(id, text) {
    const note = document.getElementById(id);
    note.textContent = text;
    note.hidden = !text;
  }

  // --- Where you're signed in ---

  const sessionList = document.getElementById("session-list");
  const endOthersButton = document.querySelector('[data-action="end-other-sessions"]');

  // The server names a browser in English ("Firefox on Linux", "Unknown browser"): the page
  // says it in its own language.
  function browserName(name) {
    if (!name || name === "Unknown browser") return t("js.account.unknown_browser");
    if (name === "An app or script") return t("js.account.app_or_script");
    const on = /^(.+) on (.+)$/.exec(name);
    return on ? t("names.browser_on", { browser: on[1], system: on[2] }) : name;
  }

  function sessionItem(session) {
    const li = document.createElement("li");
    li.className = "session";
    const head = span("line", span("name", browserName(session.browser)));
    if (session.current) {
      li.dataset.current = "true";
      head.append(" ", span("badge current", t("js.account.this_device")));
    }
    // A recovery code or link was used there: it can only add a passkey, for minutes.
    if (session.recovery === true) {
      li.dataset.recovery = "true";
      head.append(" ", span("badge recovery", t("js.account.recovery_session")));
    }
    const meta = span("meta", ...(session.created
      ? Passkeys.parts("js.account.session_signed_in", { time: timeElement(session.created) })
      : [t("js.account.session_signed_in_unknown")]));
    if (session.last_seen) {
      meta.append(" · ", ...Passkeys.parts("js.account.session_last_seen", { time: timeElement(session.last_seen) }));
    }
    li.append(head, meta);
    return li;
  }

  async function loadSessions() {
    if (!sessionList) return;
    const section = document.getElementById("sessions-section");
    section.setAttribute("aria-busy", "true");
    try {
      const answer = await Passkeys.call("GET", "/account/sessions");
      const sessions = Array.isArray(answer) ? answer : [];
      // This device first, then the most recently seen.
      const seen = (s) => String(s.last_seen || s.created || "");
      sessions.sort((a, b) => (b.current ? 1 : 0) - (a.current ? 1 : 0) || seen(b).localeCompare(seen(a), lang));
      sessionList.replaceChildren(...sessions.map(sessionItem));
      const others = sessions.filter((s) => !s.current).length;
      endOthersButton.hidden = others === 0;
      setNote("sessions-note", others === 0
        ? t("js.account.signed_in_only_here")
        : t("js.account.signed_in_elsewhere", { count: others }));
    } catch (e) {
      endOthersButton.hidden = true;
      setNote("sessions-note", t("js.account.sessions_failed", { reason: describe(e) }));
    } finally {
      section.setAttribute("aria-busy", "false");
    }
  }

  async function endOtherSessions(trigger) {
    Passkeys.busy(trigger, true);
    try {
      const result = await Passkeys.call("DELETE", "/account/sessions", undefined, trigger);
      const ended = result && Number.isInteger(result.ended) ? result.ended : 0;
      await loadSessions();
      // Beside the button, shown or not: the words stay in the section.
      Passkeys.say(ended === 0
        ? t("js.account.no_other_sessions")
        : t("js.account.sessions_ended", { count: ended }), "ok", trigger);
      sessionList.focus(); // the button may be gone now; the list says what is left
    } catch (e) {
      showError(e, trigger);
    } finally {
      Passkeys.busy(trigger, false);
    }
  }

  // --- Recent activity ---

  // The catalog has a sentence for each kind (js.account.event.<kind>); an unknown kind is
  // shown as it is.
  function eventSentence(kind) {
    const key = "js.account.event." + kind;
    return /^\w+$/.test(kind) && Passkeys.has(key) ? t(key) : kind;
  }

  function passkeyName(id) {
    if (!id) return "";
    for (const item of document.querySelectorAll("#passkeys .passkey")) {
      if (item.dataset.id === id) return item.dataset.name;
    }
    return "";
  }

  function eventItem(event) {
    const li = document.createElement("li");
    li.className = "event";
    const kind = String(event.kind || "unknown");
    li.dataset.kind = kind;
    const meta = span("meta");
    if (event.time) meta.append(timeElement(event.time));
    const name = passkeyName(event.credential);
    if (name) meta.append(" · ", t("js.account.event_passkey", { name }));
    if (event.client) meta.append(" · ", t("js.account.event_client", { client: event.client }));
    if (event.request_id) {
      meta.append(" · ", ...Passkeys.parts("js.account.event_reference", { reference: span("ref", String(event.request_id)) }));
    }
    li.append(span("what", eventSentence(kind)), meta);
    return li;
  }

  async function loadEvents() {
    const list = document.getElementById("event-list");
    if (!list) return;
    const section = document.getElementById("activity-section");
    section.setAttribute("aria-busy", "true");
    try {
      const answer = await Passkeys.call("GET", "/account/events");
      const events = Array.isArray(answer) ? answer : [];
      list.replaceChildren(...events.map(eventItem));
      setNote("activity-note", events.length === 0 ? t("js.account.no_activity") : "");
    } catch (e) {
      setNote("activity-note", t("js.account.activity_failed", { reason: describe(e) }));
    } finally {
      section.setAttribute("aria-busy", "false");
    }
  }

  // --- Delete my account ---

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

  // --- WebAuthn Signal API: keep the person's passkey provider in step with this account ---

  const signalledHandles = new Set();

  // Returns the calls made, as [{method, options, ok}], for the tests; never throws.
  async function signal() {
    const calls = [];
    try {
      const who = document.getElementById("account-who");
      if (!who || !who.dataset.rpId) return calls;
      const rpId = who.dataset.rpId;
      // A handle seen before whose last passkey was deleted is signalled with no credentials.
      const groups = new Map([...signalledHandles].map((handle) => [handle, []]));
      for (const item of document.querySelectorAll("#passkeys .passkey")) {
        const handle = item.dataset.userHandle;
        if (!handle) continue;
        if (!groups.has(handle)) groups.set(handle, []);
        groups.get(handle).push(item.dataset.id);
      }
      for (const [userId, ids] of groups) {
        signalledHandles.add(userId);
        const options = { rpId, userId, allAcceptedCredentialIds: ids };
        await record(calls, "signalAllAcceptedCredentials", options);
      }
      if (who.dataset.userHandle) {
        await record(calls, "signalCurrentUserDetails", {
          rpId,
          userId: who.dataset.userHandle,
          name: document.getElementById("account-username").textContent,
          displayName: document.getElementById("account-name").textContent,
        });
      }
    } catch (e) {
      // Never breaks the page.
    }
    return calls;
  }

  async function record(calls, method, options) {
    const result = await Passkeys.signal(method, options);
    if (result.called) calls.push({ method, options, ok: result.ok, error: result.error });
  }

  window.PasskeyPages = Object.freeze({ signal, loadSessions, loadEvents });

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (!target) return;
    const item = target.closest(".passkey");
    switch (target.dataset.action) {
      case "add-passkey": addPasskey(target); break;
      case "rename": startRename(item); break;
      case "delete": startDelete(item); break;
      case "recovery-codes": askRecoveryCodes(target); break;
      case "confirm-recovery-codes": recoveryCodes(target); break;
      case "keep-recovery-codes": keepRecoveryCodes(); break;
      case "copy-codes": copyCodes(target); break;
      case "download-codes": downloadCodes(); break;
      case "print-codes": window.print(); break;
      case "end-other-sessions": endOtherSessions(target); break;
      case "delete-account": askDelete(); break;
      case "cancel-delete-account": cancelDelete(); break;
      case "confirm-delete-account": deleteAccount(target); break;
    }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest('form[action="/logout"]');
    if (!form) return;
    event.preventDefault();
    logout(form);
  });

  if (document.getElementById("account-who")) {
    // The lists' "Loading…" shows only where this script fills them in.
    for (const id of ["sessions-note", "activity-note"]) document.getElementById(id).hidden = false;
    showFlash();
    signal();
    loadSessions();
    loadEvents();
  }
})();
