"use strict";
// The account page's sessions: "Where you're signed in" (the list, and sign out everywhere
// else), and the Sign out form.
(() => {
  const t = Passkeys.t;
  const lang = Passkeys.lang;
  const { timeElement, setNote, span, showError, describe } = AccountPage;

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

  // Sign out is a form (a same-origin POST /logout), so that it works without JavaScript. With
  // it, the page signs out by JSON and goes to the signed-out page only once the session has
  // ended; a sign-out that failed is said beside the button, and the page stays. (The
  // signed-out page's own form does the same, in signed_out.js.)
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

  AccountPage.act({ "end-other-sessions": (target) => endOtherSessions(target) });
  AccountPage.offer("loadSessions", loadSessions);

  // The list's "Loading…" shows only where this script fills it in.
  document.getElementById("sessions-note").hidden = false;
  loadSessions();
})();
