/* byok.js: behaviour of the byok components, driven only by data-* attributes.
 * No page data is ever evaluated: the script reads attributes and ids, never builds selectors
 * or code from them. Works with and without htmx (new elements are picked up by a
 * MutationObserver). Attributes:
 *   data-byok-dismissible            an element a [data-byok-dismiss] button inside removes
 *   data-byok-dismiss-after="ms"     removed after ms (paused while hovered or focused)
 *   data-byok-toggle-visibility      button showing/hiding the input named by aria-controls
 *   data-byok-provider-select        select whose option's data-placeholder / data-hint /
 *                                    data-docs / data-docs-label update its form's key field
 *   data-byok-form                   key form: its key input is marked aria-invalid on a 422
 *                                    answer and cleared on success
 *   data-byok-copy="id"              button copying the value of the input with that id; the
 *                                    [data-byok-copy-status="id"] element announces it
 *   data-byok-reveal-done            button inside [data-byok-reveal]: removes the shown key
 *                                    ([data-byok-reveal-secret]) and shows its masked form;
 *                                    leaving the page (pagehide) does the same, so the
 *                                    back/forward cache never brings the key back
 *   data-byok-key-input              a key field: emptied (and hidden again) on leaving the page
 *   data-byok-modal                  a <dialog> opened as a modal once it is on the page
 *   data-byok-dialog-close           link or button closing (and removing) its dialog
 * htmx error answers: htmx 2 swaps only 2xx answers. An error answer carrying the BYOK-Problem
 * header (byok's key routes and guards mark theirs: 403, 404, 422, 503, ...) is swapped where the
 * server retargeted it (a toast in the ToastContainer, a ValidationMessage beside the field), so
 * a dashboard embedded in any page shows it without an htmx-config. A 422 is an expected outcome
 * (not logged as an htmx error); other statuses still raise htmx:responseError. When the page
 * has no element the answer is retargeted to (no ToastContainer: a form pasted into the app's own
 * page), it is shown beside the form that sent it instead: in the form's message slot (the
 * live region its key input names in aria-describedby), else right after the form.
 */
(function () {
  "use strict";
  if (window.byokLoaded) return;
  window.byokLoaded = true;

  function remove(el) {
    if (el && el.parentNode) el.parentNode.removeChild(el);
  }

  function busy(el) {
    return el.matches(":hover") || el.contains(document.activeElement);
  }

  function schedule(el) {
    if (el.byokTimer) return;
    var ms = parseInt(el.getAttribute("data-byok-dismiss-after"), 10);
    if (!(ms > 0)) return;
    var tick = function () {
      if (!el.isConnected) return;
      if (busy(el)) { el.byokTimer = setTimeout(tick, 1000); return; }
      remove(el);
    };
    el.byokTimer = setTimeout(tick, ms);
  }

  function arm(root) {
    if (!root || root.nodeType !== 1) return;
    if (root.hasAttribute("data-byok-dismiss-after")) schedule(root);
    var found = root.querySelectorAll("[data-byok-dismiss-after]");
    for (var i = 0; i < found.length; i++) schedule(found[i]);
  }

  function toggleVisibility(button) {
    var input = document.getElementById(button.getAttribute("aria-controls") || "");
    if (!input) return;
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    button.setAttribute("aria-pressed", show ? "true" : "false");
    button.setAttribute("aria-label", show ? "Hide key" : "Show key");
    var parts = button.querySelectorAll("[data-byok-when]");
    for (var i = 0; i < parts.length; i++) {
      parts[i].hidden = parts[i].getAttribute("data-byok-when") !== (show ? "shown" : "hidden");
    }
  }

  function isSafeUrl(url) {
    return /^(https?:\/\/|\/(?!\/)|\.\.?\/)/i.test(url);
  }

  function switchProvider(select) {
    var option = select.options[select.selectedIndex];
    var form = select.form;
    if (!option || !form) return;
    var input = form.querySelector("[data-byok-key-input]");
    if (input) {
      input.placeholder = option.getAttribute("data-placeholder") || "";
      input.value = "";
      input.type = "password";
      input.removeAttribute("aria-invalid");
    }
    var help = form.querySelector("[data-byok-help]");
    if (help) help.textContent = option.getAttribute("data-hint") || "";
    var docs = form.querySelector("[data-byok-docs]");
    if (docs) {
      var url = option.getAttribute("data-docs") || "";
      if (url && isSafeUrl(url)) {
        docs.setAttribute("href", url);
        var label = docs.querySelector("[data-byok-docs-label]");
        if (label) label.textContent = option.getAttribute("data-docs-label") || "";
        docs.hidden = false;
      } else {
        docs.hidden = true;
      }
    }
  }

  function copy(button) {
    var id = button.getAttribute("data-byok-copy") || "";
    var input = document.getElementById(id);
    if (!input) return;
    var status = null;
    var marks = document.querySelectorAll("[data-byok-copy-status]");
    for (var i = 0; i < marks.length; i++) {
      if (marks[i].getAttribute("data-byok-copy-status") === id) status = marks[i];
    }
    var said = function (ok) {
      if (status) status.textContent = ok ? "Copied to the clipboard." : "Select the key and copy it.";
      button.setAttribute("data-byok-copied", ok ? "true" : "false");
    };
    var fallback = function () {
      input.focus();
      input.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      said(ok);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(function () { said(true); }, fallback);
    } else {
      fallback();
    }
  }

  function revealDone(button) {
    var panel = button.closest("[data-byok-reveal]");
    if (!panel) return;
    remove(panel.querySelector("[data-byok-reveal-secret]"));
    var shown = panel.querySelector("[data-byok-reveal-masked]");
    if (shown) shown.hidden = false;
    panel.setAttribute("data-byok-reveal", "dismissed");
  }

  function openModals(root) {
    if (!root || root.nodeType !== 1) return;
    var found = root.matches("dialog[data-byok-modal]") ? [root] : [];
    var inner = root.querySelectorAll("dialog[data-byok-modal]");
    for (var i = 0; i < inner.length; i++) found.push(inner[i]);
    for (var j = 0; j < found.length; j++) {
      var d = found[j];
      if (d.byokOpened || d.open || typeof d.showModal !== "function") continue;
      d.byokOpened = true;
      d.addEventListener("close", function (event) { remove(event.target); });
      d.showModal();
    }
  }

  function keyInputs(form) {
    return form ? form.querySelectorAll("[data-byok-key-input]") : [];
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest) return;
    var dismiss = target.closest("[data-byok-dismiss]");
    if (dismiss) { remove(dismiss.closest("[data-byok-dismissible]")); return; }
    var toggle = target.closest("[data-byok-toggle-visibility]");
    if (toggle) { toggleVisibility(toggle); return; }
    var copier = target.closest("[data-byok-copy]");
    if (copier) { copy(copier); return; }
    var done = target.closest("[data-byok-reveal-done]");
    if (done) { revealDone(done); return; }
    var close = target.closest("[data-byok-dialog-close]");
    var dialog = close && close.closest("dialog");
    if (dialog) {
      event.preventDefault();
      if (dialog.open) dialog.close();
      remove(dialog);
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-byok-provider-select]")) {
      switchProvider(target);
    }
  });

  var PROBLEM_HEADER = "BYOK-Problem";

  // htmx 2 does not swap error answers by default: show the ones byok marked as displayable.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var d = event.detail;
    var xhr = d && d.xhr;
    if (!xhr || xhr.status < 400 || !xhr.getResponseHeader(PROBLEM_HEADER)) return;
    d.shouldSwap = true;
    if (xhr.status === 422) d.isError = false;
  });

  // a key form's request says which out-of-band targets the page has (the ToastContainer and
  // the cards), so the answer to a standalone form sends only parts that have a place to land
  var TARGETS_HEADER = "BYOK-Targets";
  document.addEventListener("htmx:configRequest", function (event) {
    var d = event.detail;
    var elt = d && d.elt;
    if (!elt || !elt.closest || !elt.closest("[data-byok-form]")) return;
    var ids = [];
    if (document.getElementById("toast-container")) ids.push("toast-container");
    var cards = document.querySelectorAll("[data-byok-card][id]");
    for (var i = 0; i < cards.length; i++) ids.push(cards[i].id);
    var value = ids.join(" ");
    if (value.length <= 2048) d.headers[TARGETS_HEADER] = value;
  });

  // the element an HX-Retarget of "#id" names, or null (byok's routes only retarget to ids)
  function retargeted(xhr) {
    var sel = xhr.getResponseHeader("HX-Retarget") || "";
    if (sel.charAt(0) !== "#") return undefined; // not byok's: htmx handles it
    return document.getElementById(sel.slice(1));
  }

  // an empty slot (aria-live) or the ValidationMessage that replaced it (role alert / status)
  function isMessage(el) {
    var role = el.getAttribute("role");
    return el.hasAttribute("aria-live") || role === "alert" || role === "status";
  }

  // the form's own message slot: the element its key input is described by
  function messageSlot(form) {
    var input = form && form.querySelector("[data-byok-key-input]");
    var ids = ((input && input.getAttribute("aria-describedby")) || "").split(/\s+/);
    for (var i = 0; i < ids.length; i++) {
      var slot = ids[i] && document.getElementById(ids[i]);
      if (slot && form.contains(slot) && isMessage(slot)) return slot;
    }
    return null;
  }

  // an error answer aimed at an element this page lacks: shown beside the form that sent it
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var d = event.detail;
    var xhr = d && d.xhr;
    if (!xhr || xhr.status < 400 || !xhr.getResponseHeader(PROBLEM_HEADER)) return;
    if (retargeted(xhr) !== null) return; // the target exists (or is not an id): as usual
    event.preventDefault(); // htmx would throw on the missing target and show nothing
    var elt = d.elt;
    var form = elt && elt.closest ? elt.closest("[data-byok-form]") || elt.closest("form") : null;
    var slot = messageSlot(form);
    if (!slot && elt && elt.parentNode) {
      slot = document.createElement("div");
      slot.setAttribute("data-byok-problem", "");
      (form || elt).insertAdjacentElement("afterend", slot);
    }
    if (!slot) return;
    while (slot.firstChild) slot.removeChild(slot.firstChild); // the previous message goes
    window.htmx.swap(slot, xhr.responseText, { swapStyle: "beforeend" }); // htmx's own swap
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var d = event.detail;
    var elt = d && d.elt;
    var form = elt && elt.closest ? elt.closest("[data-byok-form]") : null;
    if (!form || !d.xhr) return;
    var inputs = keyInputs(form);
    for (var i = 0; i < inputs.length; i++) {
      if (d.xhr.status === 422) {
        inputs[i].setAttribute("aria-invalid", "true");
      } else if (d.successful) {
        inputs[i].value = "";
        inputs[i].type = "password";
        inputs[i].removeAttribute("aria-invalid");
      }
    }
  });

  // a successful request from inside a modal (e.g. the roll form) closes it
  document.addEventListener("htmx:afterRequest", function (event) {
    var d = event.detail;
    var elt = d && d.elt;
    var dialog = elt && elt.closest ? elt.closest("dialog[data-byok-modal]") : null;
    if (dialog && d.successful) {
      if (dialog.open) dialog.close();
      remove(dialog);
    }
  });

  function forget(input) {
    input.value = "";
    if (input.type === "password") return;
    var toggles = document.querySelectorAll("[data-byok-toggle-visibility]");
    for (var i = 0; i < toggles.length; i++) {
      if (toggles[i].getAttribute("aria-controls") === input.id) { toggleVisibility(toggles[i]); }
    }
    input.type = "password";
  }

  // keys leave with the page (a key shown once, a key typed and not saved): the back/forward
  // cache keeps the page as it is now, and Back would show them again
  window.addEventListener("pagehide", function () {
    var shown = document.querySelectorAll("[data-byok-reveal-done]");
    for (var i = 0; i < shown.length; i++) revealDone(shown[i]);
    var typed = document.querySelectorAll("[data-byok-key-input]");
    for (var j = 0; j < typed.length; j++) forget(typed[j]);
  });

  function start() {
    arm(document.body);
    openModals(document.body);
    new MutationObserver(function (mutations) {
      for (var i = 0; i < mutations.length; i++) {
        var added = mutations[i].addedNodes;
        for (var j = 0; j < added.length; j++) { arm(added[j]); openModals(added[j]); }
      }
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
