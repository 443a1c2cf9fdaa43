"use strict";
// WebAuthn Signal API: keep the person's passkey provider in step with this account (its
// passkeys, its username and display name), on each load and after a passkey is deleted.
(() => {
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

  AccountPage.offer("signal", signal);

  signal();
})();
