"use strict";
// The account page's recent activity: the account's newest security events, in the page's words.
(() => {
  const t = Passkeys.t;
  const { timeElement, setNote, span, describe } = AccountPage;

  // The catalog has a sentence for each kind (js.account.event.<kind>); an unknown kind is
  // shown as it is.
  function eventSentence(kind) {
    const key = "js.account.event." + kind;
    return /^\w+$/.test(kind) && Passkeys.has(key) ? t(key) : kind;
  }

  // The name of a passkey still on the page (account_passkeys.js keeps the rows' names).
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

  AccountPage.offer("loadEvents", loadEvents);

  // The list's "Loading…" shows only where this script fills it in.
  document.getElementById("activity-note").hidden = false;
  loadEvents();
})();
