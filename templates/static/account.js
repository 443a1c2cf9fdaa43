"use strict";
// The account page's shared core: local times, where a message is said, the words for an error,
// and the one click handler that runs each section's actions. Each section is its own file,
// loaded after this one (account.html, in the page's order): account_passkeys.js,
// account_signal.js, account_codes.js, account_sessions.js, account_activity.js,
// account_delete.js.
const AccountPage = (() => {
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

  // A list's note ("Loading…", "Nothing yet", a failure): shown only with words in it.
  function setNote(id, text) {
    const note = document.getElementById(id);
    note.textContent = text;
    note.hidden = !text;
  }

  function span(className, ...children) {
    const el = document.createElement("span");
    el.className = className;
    el.append(...children);
    return el;
  }

  // --- The words for an error ---

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

  // --- What the sections offer ---

  // Each section names the actions of its buttons (data-action="…"); one click handler runs
  // them, with the button pressed.
  const actions = new Map();

  function act(handlers) {
    for (const [name, handler] of Object.entries(handlers)) actions.set(name, handler);
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (!target) return;
    const handler = actions.get(target.dataset.action);
    if (handler) handler(target);
  });

  // A section's function another section (or a test) calls, by name: whichever file defines
  // it, and whenever it is loaded.
  const offered = new Map();

  function offer(name, fn) {
    offered.set(name, fn);
  }

  function use(name) {
    return (...args) => {
      const fn = offered.get(name);
      return fn ? fn(...args) : undefined;
    };
  }

  // For the tests: the Signal API calls, and the two lists loaded again.
  window.PasskeyPages = Object.freeze({
    signal: use("signal"),
    loadSessions: use("loadSessions"),
    loadEvents: use("loadEvents"),
  });

  // The welcome box is shown once: drop ?welcome from the address so a reload does not repeat it.
  if (window.location.search.includes("welcome")) {
    window.history.replaceState(null, "", "/account");
  }

  return Object.freeze({
    timeElement, rowSpot, spotFor, setNote, span, showError, describe, act, offer, use,
  });
})();
