/* byok gallery play runner: runs a story's play (the JSON of gallery.play's steps) inside the
   canvas, step by step, against the story's live sandbox. The Interactions panel asks for a run
   with postMessage ("play-run", from window.parent only) and gets each step's state back
   ("play-step", then "play-done"); pytest calls window.byokPlay.run(steps) through Playwright.
   Each step starts once htmx is idle (no request in flight, nothing swapped for 60 ms) and waits
   up to its timeout for its target or its condition. A step's result: its status (passed,
   failed, skipped), duration, the htmx requests it caused (method, the story's path, status)
   and, on failure, the error and a snapshot of the canvas's DOM (scripts removed). */
(function () {
  "use strict";
  var QUIET_MS = 60; // htmx is idle once nothing happened for this long
  var POLL_MS = 25;
  var embedded = window.parent && window.parent !== window;
  var state = {running: false, step: -1, inflight: 0, last: 0, requests: [], swaps: [], confirmed: [], onRequest: null};

  // ---------------------------------------------------------------- htmx activity
  function storyPath(path) {
    var body = document.body, base = body && body.getAttribute("data-sandbox-url");
    var url;
    try { url = new URL(path, window.location.href); } catch (e) { return String(path); }
    var p = url.pathname;
    if (base && p.indexOf(base + "/") === 0) p = p.slice(base.length);
    return p + url.search;
  }
  function touch() { state.last = performance.now(); }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var d = event.detail, config = d.requestConfig || {};
    touch();
    if (!d.xhr || d.xhr.__playRecord) return;
    state.inflight += 1;
    var rec = {method: String(config.verb || "get").toUpperCase(), path: storyPath(config.path || d.pathInfo && d.pathInfo.requestPath || ""), status: null, step: state.step, start: performance.now(), waited: false, done: false};
    d.xhr.__playRecord = rec;
    if (state.running) state.requests.push(rec);
  });
  function finish(event, error) {
    var xhr = event.detail && event.detail.xhr, rec = xhr && xhr.__playRecord;
    touch();
    if (!rec || rec.done) return;
    rec.done = true;
    state.inflight = Math.max(0, state.inflight - 1);
    rec.status = error ? error : xhr.status;
    rec.ms = Math.round(performance.now() - rec.start);
    if (state.onRequest) state.onRequest(rec);
  }
  document.addEventListener("htmx:afterRequest", function (event) { finish(event, null); });
  document.addEventListener("htmx:sendError", function (event) { finish(event, "network error"); });
  document.addEventListener("htmx:timeout", function (event) { finish(event, "timed out"); });
  function swapped(event) {
    touch();
    var t = event.detail && (event.detail.target || event.detail.elt);
    if (state.running && t) state.swaps.push({el: t, id: t.id || null, used: false});
  }
  document.addEventListener("htmx:afterSwap", swapped);
  document.addEventListener("htmx:oobAfterSwap", swapped);
  document.addEventListener("htmx:afterSettle", touch);
  // hx-confirm during a run: accepted without the browser's blocking dialog, noted on the step
  document.addEventListener("htmx:confirm", function (event) {
    var d = event.detail;
    if (!state.running || !d || !d.question) return;
    event.preventDefault();
    state.confirmed.push({step: state.step, question: d.question});
    d.issueRequest(true);
  });

  function idle() { return state.inflight === 0 && performance.now() - state.last >= QUIET_MS; }

  // ---------------------------------------------------------------- finding elements
  // a long token in a message (a revealed key) is cut to its ends: messages end up in logs
  function masked(text) { return String(text).replace(/[A-Za-z0-9_\-]{20,}/g, function (t) { return t.slice(0, 4) + "…" + t.slice(-4); }); }
  function squash(text) { return String(text || "").replace(/\s+/g, " ").trim(); }
  function textOf(el) { return squash(el.textContent); }
  var INPUT_ROLES = {button: "button", submit: "button", reset: "button", image: "button", checkbox: "checkbox", radio: "radio", number: "spinbutton", range: "slider"};
  function roleOf(el) {
    var explicit = el.getAttribute("role");
    if (explicit) return explicit.split(/\s+/)[0];
    var tag = el.tagName.toLowerCase();
    if (tag === "button") return "button";
    if (tag === "a") return el.hasAttribute("href") ? "link" : null;
    if (tag === "input") {
      var type = (el.getAttribute("type") || "text").toLowerCase();
      if (type === "hidden") return null;
      if (type === "checkbox" && el.hasAttribute("switch")) return "switch";
      return INPUT_ROLES[type] || "textbox";
    }
    if (tag === "textarea") return "textbox";
    if (tag === "select") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    if (/^h[1-6]$/.test(tag)) return "heading";
    var plain = {option: "option", dialog: "dialog", img: "img", li: "listitem", tr: "row", td: "cell", th: "cell", table: "table", output: "status"};
    if (tag in plain) return plain[tag];
    if (tag === "section" && (el.hasAttribute("aria-label") || el.hasAttribute("aria-labelledby"))) return "region";
    return null;
  }
  function nameOf(el) {
    var by = el.getAttribute("aria-labelledby");
    if (by) {
      var parts = by.split(/\s+/).map(function (id) { var x = document.getElementById(id); return x ? textOf(x) : ""; });
      if (squash(parts.join(" "))) return squash(parts.join(" "));
    }
    var label = el.getAttribute("aria-label");
    if (label && label.trim()) return squash(label);
    if (el.labels && el.labels.length) return squash(Array.prototype.map.call(el.labels, textOf).join(" "));
    var tag = el.tagName.toLowerCase();
    if (tag === "input" && /^(submit|button|reset)$/i.test(el.type)) return squash(el.value);
    if (tag === "img") return squash(el.getAttribute("alt"));
    if (tag !== "input" && tag !== "textarea" && tag !== "select") {
      var text = textOf(el);
      if (text) return text;
    }
    return squash(el.getAttribute("title") || el.getAttribute("placeholder") || "");
  }
  function same(actual, wanted, exact) {
    actual = squash(actual);
    return exact ? actual === wanted : actual.toLowerCase().indexOf(String(wanted).toLowerCase()) !== -1;
  }
  function scope() { return document.body; }
  function all(target) {
    if (!target) return [];
    var root = scope(), out = [];
    if (target.css !== undefined) return Array.prototype.slice.call(root.querySelectorAll(target.css));
    var els = root.querySelectorAll("*");
    if (target.role !== undefined) {
      els.forEach(function (el) {
        if (roleOf(el) === target.role && (target.name === null || target.name === undefined || same(nameOf(el), target.name, target.exact))) out.push(el);
      });
      return out;
    }
    els.forEach(function (el) { // the smallest elements holding the text
      if (el.tagName === "SCRIPT" || el.tagName === "STYLE" || !same(textOf(el), target.text, target.exact)) return;
      for (var i = 0; i < el.children.length; i++) if (same(textOf(el.children[i]), target.text, target.exact)) return;
      out.push(el);
    });
    return out;
  }
  function visible(el) {
    if (!el.isConnected) return false;
    if (el.checkVisibility) return el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}) && el.getClientRects().length > 0;
    var s = window.getComputedStyle(el);
    return el.getClientRects().length > 0 && s.visibility !== "hidden" && s.opacity !== "0";
  }
  function shown(target) { return all(target).filter(visible); }
  function describe(target) {
    if (!target) return "anything";
    if (target.css !== undefined) return target.css;
    if (target.role !== undefined) return target.role + (target.name ? ' "' + target.name + '"' : "");
    return 'text "' + target.text + '"';
  }

  // ---------------------------------------------------------------- waiting
  function sleep(ms) { return new Promise(function (done) { setTimeout(done, ms); }); }
  // Poll check() until it returns a value other than undefined, or fail with why() at the deadline.
  function until(check, deadline, why) {
    return new Promise(function (resolve, reject) {
      (function again() {
        var value;
        try { value = check(); } catch (e) { reject(e); return; }
        if (value !== undefined) { resolve(value); return; }
        if (performance.now() > deadline) { reject(new Error(why())); return; }
        setTimeout(again, POLL_MS);
      })();
    });
  }
  // an element htmx has not wired yet (swapped in, still settling) would act natively: a link
  // would navigate the canvas away, a form would submit the page; wait until htmx processed it
  var HX = "[hx-get],[hx-post],[hx-put],[hx-patch],[hx-delete],[data-hx-get],[data-hx-post],[data-hx-put],[data-hx-patch],[data-hx-delete]";
  function wired(el) {
    var owner = el.closest(HX) || (el.form && el.form.matches(HX) ? el.form : null);
    if (!owner) return true;
    var data = owner["htmx-internal-data"];
    return !!(data && data.initHash);
  }
  function actionable(step, deadline) {
    var why = function () {
      var found = all(step.target);
      if (!found.length) return "no element matches " + describe(step.target);
      if (!found.some(visible)) return found.length + " element(s) match " + describe(step.target) + " but none is visible";
      if (!found.some(function (e) { return visible(e) && wired(e); })) return describe(step.target) + " is not wired by htmx yet";
      return describe(step.target) + " is disabled";
    };
    return until(function () {
      var el = shown(step.target).filter(function (e) { return !e.disabled && wired(e); })[0];
      return el || undefined;
    }, deadline, why);
  }

  // ---------------------------------------------------------------- steps
  function fire(el, type) { el.dispatchEvent(new Event(type, {bubbles: true})); }
  function setValue(el, value) {
    var proto = el.tagName === "TEXTAREA" ? HTMLTextAreaElement.prototype : el.tagName === "SELECT" ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, "value").set.call(el, value);
    fire(el, "input");
    fire(el, "change");
  }
  function mouse(el, type) {
    var Ctor = /^pointer/.test(type) && window.PointerEvent ? PointerEvent : MouseEvent;
    el.dispatchEvent(new Ctor(type, {bubbles: true, cancelable: true, composed: true, view: window, button: 0}));
  }
  var RUN = {
    "click": function (step, deadline) {
      return actionable(step, deadline).then(function (el) {
        el.scrollIntoView({block: "center", inline: "nearest"});
        ["pointerdown", "mousedown"].forEach(function (t) { mouse(el, t); });
        if (el.focus) el.focus({preventScroll: true});
        ["pointerup", "mouseup"].forEach(function (t) { mouse(el, t); });
        el.click();
      });
    },
    "fill": function (step, deadline) {
      return actionable(step, deadline).then(function (el) {
        if (!/^(INPUT|TEXTAREA)$/.test(el.tagName) && !el.isContentEditable) throw new Error(describe(step.target) + " is a <" + el.tagName.toLowerCase() + ">, not a field");
        el.focus({preventScroll: true});
        if (el.isContentEditable) { el.textContent = step.value; fire(el, "input"); return; }
        setValue(el, step.value);
      });
    },
    "select": function (step, deadline) {
      return actionable(step, deadline).then(function (el) {
        if (el.tagName !== "SELECT") throw new Error(describe(step.target) + " is a <" + el.tagName.toLowerCase() + ">, not a <select>");
        var option = Array.prototype.filter.call(el.options, function (o) { return o.value === step.option || squash(o.textContent) === step.option; })[0];
        if (!option) throw new Error(describe(step.target) + ' has no option "' + step.option + '"');
        el.focus({preventScroll: true});
        setValue(el, option.value);
      });
    },
    "press": function (step, deadline) {
      return actionable(step, deadline).then(function (el) {
        el.focus({preventScroll: true});
        var init = {key: step.key, bubbles: true, cancelable: true, composed: true};
        var go = el.dispatchEvent(new KeyboardEvent("keydown", init));
        if (step.key.length === 1) el.dispatchEvent(new KeyboardEvent("keypress", init));
        el.dispatchEvent(new KeyboardEvent("keyup", init));
        // what the browser would do for a real key: Enter submits a field's form, clicks a button
        if (go && step.key === "Enter") {
          if (el.form && el.tagName === "INPUT") el.form.requestSubmit();
          else if (el.tagName === "BUTTON" || el.tagName === "A") el.click();
        }
      });
    },
    "wait-request": function (step, deadline) {
      var matches = function (r) {
        return !r.waited && (!step.method || r.method === step.method) && (!step.path || r.path.indexOf(step.path) === 0);
      };
      return until(function () {
        var r = state.requests.filter(function (x) { return x.done && matches(x); })[0];
        if (!r) return undefined;
        r.waited = true;
        if (step.status && r.status !== step.status) throw new Error(r.method + " " + r.path + " answered " + r.status + ", not " + step.status);
        return r;
      }, deadline, function () {
        var seen = state.requests.map(function (r) { return r.method + " " + r.path + (r.done ? " → " + r.status : " (pending)"); });
        return "no " + (step.method || "") + " request" + (step.path ? " to " + step.path : "") + " answered" + (seen.length ? "; seen: " + seen.join(", ") : "; none was sent");
      });
    },
    "wait-swap": function (step, deadline) {
      return until(function () {
        var els = step.target ? all(step.target) : null;
        var s = state.swaps.filter(function (x) {
          if (x.used) return false;
          if (!els) return true;
          return els.some(function (e) { return x.el === e || x.el.contains(e) || e.contains(x.el) || (x.id && x.id === e.id); });
        })[0];
        if (!s || !idle()) return undefined;
        s.used = true;
        return s;
      }, deadline, function () { return "nothing was swapped into " + describe(step.target); });
    },
    "expect-text": function (step, deadline) {
      var last = "";
      return until(function () {
        var els = shown(step.target);
        if (els.length) last = textOf(els[0]);
        return els.some(function (e) { return same(textOf(e), step.text, step.exact); }) || undefined;
      }, deadline, function () {
        return shown(step.target).length ? describe(step.target) + ' says "' + masked(last).slice(0, 160) + '", not "' + step.text + '"' : "no visible element matches " + describe(step.target);
      });
    },
    "expect-visible": function (step, deadline) {
      return until(function () { return shown(step.target).length ? true : undefined; }, deadline, function () {
        var n = all(step.target).length;
        return n ? n + " element(s) match " + describe(step.target) + " but none is visible" : "no element matches " + describe(step.target);
      });
    },
    "expect-hidden": function (step, deadline) {
      return until(function () { return shown(step.target).length ? undefined : true; }, deadline, function () {
        return describe(step.target) + " is still visible";
      });
    },
    "expect-count": function (step, deadline) {
      return until(function () { return shown(step.target).length === step.count ? true : undefined; }, deadline, function () {
        return shown(step.target).length + " visible element(s) match " + describe(step.target) + ", not " + step.count;
      });
    },
    "expect-attribute": function (step, deadline) {
      var got = null;
      return until(function () {
        var el = all(step.target)[0];
        if (!el) return undefined;
        got = el.getAttribute(step.name);
        return got === step.value ? true : undefined;
      }, deadline, function () {
        if (!all(step.target).length) return "no element matches " + describe(step.target);
        return describe(step.target) + " [" + step.name + "] is " + (got === null ? "absent" : '"' + got + '"') + ", not " + (step.value === null ? "absent" : '"' + step.value + '"');
      });
    }
  };

  // ---------------------------------------------------------------- snapshot
  function snapshot() {
    var copy = document.documentElement.cloneNode(true);
    copy.querySelectorAll("script, [data-gallery-measure-layer]").forEach(function (el) { el.remove(); });
    var head = copy.querySelector("head");
    if (head) {
      var base = document.createElement("base");
      base.setAttribute("href", window.location.href);
      head.insertBefore(base, head.firstChild);
    }
    return "<!doctype html>" + copy.outerHTML;
  }

  // ---------------------------------------------------------------- running
  function publicRequest(r) { return {method: r.method, path: r.path, status: r.status, ms: r.ms}; }
  function view(result) {
    var out = {};
    for (var k in result) out[k] = result[k];
    var asked = state.confirmed.filter(function (c) { return c.step === result.index; });
    if (asked.length) out.confirmed = asked.map(function (c) { return c.question; });
    out.requests = state.requests.filter(function (r) { return r.step === result.index; }).map(publicRequest);
    return out;
  }
  function run(steps, report) {
    report = report || function () {};
    if (state.running) return Promise.reject(new Error("a play is already running"));
    state.running = true;
    state.requests = [];
    state.swaps = [];
    state.confirmed = [];
    var results = steps.map(function (s, i) { return {index: i, label: s.label || s["do"], "do": s["do"], status: "pending"}; });
    state.onRequest = function (rec) { if (rec.step >= 0 && results[rec.step]) report(view(results[rec.step])); };
    var failed = false;
    var chain = Promise.resolve();
    steps.forEach(function (step, i) {
      chain = chain.then(function () {
        var result = results[i];
        if (failed) { result.status = "skipped"; report(view(result)); return; }
        var runner = RUN[step["do"]];
        var start = performance.now();
        var deadline = start + (step.timeout || 5000);
        result.status = "running";
        report(view(result));
        return until(function () { return idle() || undefined; }, deadline, function () { return "htmx was still busy (a request in flight)"; })
          .then(function () {
            state.step = i;
            if (!runner) throw new Error("unknown step " + JSON.stringify(step["do"]));
            return runner(step, deadline);
          })
          .then(function () {
            result.status = "passed";
          }, function (error) {
            failed = true;
            result.status = "failed";
            result.error = String(error && error.message || error);
            result.snapshot = snapshot();
          })
          .then(function () {
            result.ms = Math.round(performance.now() - start);
            report(view(result));
          });
      });
    });
    return chain.then(function () {
      // requests the last step caused may still be answering: give them a moment to land
      return until(function () { return idle() || undefined; }, performance.now() + 2000, function () { return ""; }).catch(function () {});
    }).then(function () {
      state.running = false;
      state.step = -1;
      state.onRequest = null;
      var out = results.map(view);
      return {passed: !failed, steps: out};
    }, function (error) {
      state.running = false;
      state.step = -1;
      state.onRequest = null;
      throw error;
    });
  }
  window.byokPlay = {run: run, roleOf: roleOf, nameOf: nameOf};

  function post(type, data) {
    if (!embedded) return;
    var message = {byokGallery: 1, type: type, story: document.body && document.body.getAttribute("data-story")};
    for (var k in data) message[k] = data[k];
    window.parent.postMessage(message, "*");
  }
  window.addEventListener("message", function (event) {
    if (!embedded || event.source !== window.parent) return;
    var m = event.data;
    if (!m || m.byokGallery !== 1 || m.type !== "play-run" || !Array.isArray(m.steps)) return;
    var id = m.run;
    run(m.steps, function (result) { post("play-step", {run: id, step: result}); }).then(function (outcome) {
      post("play-done", {run: id, passed: outcome.passed, steps: outcome.steps});
    }, function (error) {
      post("play-done", {run: id, passed: false, error: String(error && error.message || error), steps: []});
    });
  });
})();
