"use strict";
// The account page's recovery codes: make them (asking first when unused ones remain, which
// new ones void), then copy, download or print them; the welcome checklist's second step.
(() => {
  const t = Passkeys.t;
  const { spotFor } = AccountPage;

  const codesButton = () => document.querySelector('#recovery-title ~ [data-action="recovery-codes"]');

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

  AccountPage.act({
    "recovery-codes": (target) => askRecoveryCodes(target),
    "confirm-recovery-codes": (target) => recoveryCodes(target),
    "keep-recovery-codes": () => keepRecoveryCodes(),
    "copy-codes": (target) => copyCodes(target),
    "download-codes": () => downloadCodes(),
    "print-codes": () => window.print(),
  });
})();
