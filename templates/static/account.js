"use strict";
(() => {
  // Times in the person's own terms: "3 minutes ago", the local date and time on hover.
  function localTimes(root) {
    const relative = typeof Intl !== "undefined" && Intl.RelativeTimeFormat
      ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
    root.querySelectorAll("time[datetime]").forEach((el) => {
      const at = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(at.getTime())) return;
      el.title = at.toLocaleString();
      const seconds = (at.getTime() - Date.now()) / 1000;
      const steps = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
      const step = steps.find(([, size]) => Math.abs(seconds) >= size);
      el.textContent = !relative ? at.toLocaleString()
        : step ? relative.format(Math.round(seconds / step[1]), step[0])
        : relative.format(0, "minute");
    });
  }
  localTimes(document);

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
      // The welcome checklist stays (ticked) until both of its steps are done.
      const checklist = document.getElementById("welcome");
      setTimeout(() => (checklist ? window.location.assign("/account?welcome") : window.location.reload()), 600);
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
        // Back to where the person was: the row's Rename button.
        item.querySelector('[data-action="rename"]').focus();
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
        // Focus goes to the next passkey (or the one before), not to the page.
        const neighbour = item.nextElementSibling || item.previousElementSibling;
        item.remove();
        onlyOneLeft();
        Passkeys.say("Deleted “" + name + "”.", "ok");
        const target = neighbour && neighbour.querySelector("button");
        (target || document.querySelector('[data-action="add-passkey"]')).focus();
        signal();
      } catch (e) {
        closeInline(item);
        Passkeys.fail(e);
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
    document.querySelector('#recovery-title ~ [data-action="recovery-codes"]').focus();
  }

  function codesText() {
    return Array.from(document.querySelectorAll("#code-list li"), (li) => li.textContent).join("\n");
  }

  async function copyCodes() {
    try {
      await navigator.clipboard.writeText(codesText() + "\n");
      Passkeys.say("Copied the recovery codes. Paste them somewhere safe, offline.", "ok");
    } catch (e) {
      Passkeys.say("This browser did not allow copying: select the codes, or use Download.", "error");
    }
  }

  function downloadCodes() {
    const intro = "Recovery codes for " + window.location.host + ". Each works once.\n\n";
    const blob = new Blob([intro + codesText() + "\n"], { type: "text/plain" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "recovery-codes.txt";
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
    step.replaceChildren(tick, " Done: recovery codes are made. Keep them safe, offline.");
    const passkeyStep = document.getElementById("step-passkey");
    if (passkeyStep && passkeyStep.classList.contains("done")) {
      document.getElementById("all-set").hidden = false;
    }
  }

  async function recoveryCodes(trigger) {
    document.getElementById("replace-codes").hidden = true;
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
      const count = document.getElementById("recovery-count");
      count.textContent = "You have " + result.codes.length + " unused recovery codes.";
      count.dataset.unused = String(result.codes.length);
      tickCodesStep();
      document.querySelector('#recovery-title ~ [data-action="recovery-codes"]').textContent = "Make new codes";
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

  // --- Shared by the sections below ---

  // Errors of the account actions: the server's own sentence when it sent one.
  function showError(e) {
    if (e instanceof Passkeys.ApiError && e.description) Passkeys.say(e.description, "error");
    else Passkeys.fail(e);
  }

  function describe(e) {
    return e instanceof Passkeys.ApiError && e.description ? e.description : Passkeys.explain(e);
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function span(className, ...children) {
    const el = document.createElement("span");
    el.className = className;
    el.append(...children);
    return el;
  }

  const DATE_FORMAT = (() => {
    try {
      return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
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
    else el.textContent = DATE_FORMAT ? DATE_FORMAT.format(date) : date.toLocaleString();
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

  function sessionItem(session) {
    const li = document.createElement("li");
    li.className = "session";
    const head = span("line", span("name", session.browser || "Unknown browser"));
    if (session.current) {
      li.dataset.current = "true";
      head.append(" ", span("badge current", "This device"));
    }
    const meta = span("meta", "Signed in ");
    meta.append(session.created ? timeElement(session.created) : "at an unknown time");
    if (session.last_seen) meta.append(" · Last seen ", timeElement(session.last_seen));
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
      sessions.sort((a, b) => (b.current ? 1 : 0) - (a.current ? 1 : 0) || seen(b).localeCompare(seen(a)));
      sessionList.replaceChildren(...sessions.map(sessionItem));
      const others = sessions.filter((s) => !s.current).length;
      endOthersButton.hidden = others === 0;
      setNote("sessions-note", others === 0
        ? "You're signed in only here."
        : "You're signed in here and in " + plural(others, "other place") + ".");
    } catch (e) {
      endOthersButton.hidden = true;
      setNote("sessions-note", "Your sessions couldn't be loaded. " + describe(e));
    } finally {
      section.setAttribute("aria-busy", "false");
    }
  }

  async function endOtherSessions(trigger) {
    Passkeys.busy(trigger, true);
    try {
      const result = await Passkeys.call("DELETE", "/account/sessions");
      const ended = result && Number.isInteger(result.ended) ? result.ended : 0;
      await loadSessions();
      Passkeys.say(ended === 0
        ? "There were no other sessions to end."
        : "Signed out everywhere else: " + plural(ended, "session") + " ended.", "ok");
      sessionList.focus(); // the button may be gone now; the list says what is left
    } catch (e) {
      showError(e);
    } finally {
      Passkeys.busy(trigger, false);
    }
  }

  // --- Recent activity ---

  const EVENT_SENTENCES = {
    signin_success: "Signed in",
    signin_failure: "Sign-in refused",
    counter_regression: "Sign-in refused: the passkey may have been copied",
    passkey_added: "Passkey added",
    passkey_renamed: "Passkey renamed",
    passkey_removed: "Passkey removed",
    recovery_used: "Recovery code used",
    recovery_link_issued: "Recovery link made by an administrator",
    recovery_link_used: "Recovery link used",
    invite_issued: "Invitation made",
    invite_used: "Invitation used",
    user_disabled: "Account disabled by an administrator",
    user_enabled: "Account enabled again by an administrator",
    user_deleted: "Account deleted",
    key_changed: "Signing key changed",
  };

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
    if (name) meta.append(" · passkey “" + name + "”");
    if (event.client) meta.append(" · via " + event.client);
    if (event.request_id) meta.append(" · reference ", span("ref", String(event.request_id)));
    li.append(span("what", EVENT_SENTENCES[kind] || kind), meta);
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
      setNote("activity-note", events.length === 0 ? "No activity yet." : "");
    } catch (e) {
      setNote("activity-note", "Recent activity couldn't be loaded. " + describe(e));
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

  async function deleteAccount(trigger) {
    Passkeys.busy(trigger, true);
    Passkeys.say("Deleting your account…");
    try {
      // An old sign-in answers reauthentication_required: Passkeys.call asks for the passkey
      // and tries once more.
      await Passkeys.call("DELETE", "/account");
      for (const b of document.querySelectorAll("main button")) b.disabled = true;
      Passkeys.say("Your account was deleted. Taking you to the home page…", "ok");
      document.getElementById("main").focus();
      setTimeout(() => window.location.assign("/"), 800);
    } catch (e) {
      showError(e);
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
      case "copy-codes": copyCodes(); break;
      case "download-codes": downloadCodes(); break;
      case "print-codes": window.print(); break;
      case "logout": logout(); break;
      case "end-other-sessions": endOtherSessions(target); break;
      case "delete-account": askDelete(); break;
      case "cancel-delete-account": cancelDelete(); break;
      case "confirm-delete-account": deleteAccount(target); break;
    }
  });

  // logged_out.html loads this file too, for its sign-out button: the rest is the account page's.
  if (document.getElementById("account-who")) {
    signal();
    loadSessions();
    loadEvents();
  }
})();
