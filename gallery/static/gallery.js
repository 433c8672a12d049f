/* byok gallery shell: theme, sidebar (collapsible groups, fuzzy search, shortcuts), the canvas
   tools (viewport, resize, zoom, background, outline, layout), the Actions and Accessibility
   panels (fed by canvas.js over postMessage), Controls (changed markers, reset, JSON checks),
   in-place stories (a story switch or a control change swaps the canvas's content, never
   reloads its document), copy buttons, tab permalinks and hot reload.
   Static: it reads data-* attributes, localStorage (an export's remembered choices) and
   messages from its own iframes only;
   whatever a canvas sends, and the one server text it shows (a failed reload's traceback), is
   written with textContent, never parsed as HTML. */
(function () {
  "use strict";
  var THEME_KEY = "byok-gallery-theme";
  var VIEWPORT_KEY = "byok-gallery-viewport";
  var GROUPS_KEY = "byok-gallery-groups";
  var NAME = /^[a-z][a-z0-9-]{0,31}$/;
  var ZOOMS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];
  var VIEWPORTS = {
    "responsive": null, "mobile-s": [320, 568], "mobile": [375, 667], "tablet": [768, 1024],
    "laptop": [1024, 768], "desktop": [1280, 800], "wide": [1536, 864]
  };
  var canvas = {zoom: 1, background: "page", outline: false, measure: false, layout: null, size: null};

  // Remembered choices (theme, open groups, viewport, the panels' share; gallery/ui/prefs.py).
  // Live, they are cookies the server renders each page with, so nothing is read from storage
  // before the canvas shows (bench "cold load": a page's first localStorage read held it up for
  // the storage's load). A static export has no server: they stay in localStorage there, and
  // are applied once the page is parsed.
  var STATIC = document.documentElement.hasAttribute("data-gallery-static");
  function recall(key) {  // a static export's remembered value; live: null (the page has it)
    if (!STATIC) return null;
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function keep(key, value) {
    var text = JSON.stringify(value);
    if (!STATIC) {
      document.cookie = key + "=" + encodeURIComponent(text) + "; path=/; max-age=31536000; samesite=lax";
      return;
    }
    try { window.localStorage.setItem(key, text); } catch (e) { /* private mode */ }
  }
  function $(id) { return document.getElementById(id); }
  // Writes that may repeat (each canvas answer says hello, sizes, ...) change the DOM only when
  // the value changes: an equal write still restyles the shell in the frame the canvas shows
  // its answer in (bench "control change").
  function setText(el, text) { if (el && el.textContent !== text) el.textContent = text; }
  function setHidden(el, hidden) { if (el && el.hidden !== hidden) el.hidden = hidden; }
  function setAttr(el, name, value) { if (el && el.getAttribute(name) !== value) el.setAttribute(name, value); }
  function make(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  // Theme: the inline script at the top of <head> applied the remembered one before the first
  // paint (this script is deferred).
  function currentTheme() { return document.documentElement.getAttribute("data-theme") || "light"; }

  // ---------------------------------------------------------------- frames and messages
  function frame() { return $("canvas-frame"); }
  function send(win, type, data) {
    if (!win) return;
    var message = {byokGallery: 1, type: type};
    for (var k in data || {}) message[k] = data[k];
    win.postMessage(message, "*");
  }
  function settings() {
    var s = {theme: currentTheme(), background: canvas.background, outline: canvas.outline, measure: canvas.measure};
    if (canvas.layout) s.layout = canvas.layout;
    return s;
  }
  function broadcast() {
    document.querySelectorAll("iframe").forEach(function (f) {
      var s = f === frame() ? settings() : {theme: currentTheme()};
      send(f.contentWindow, "settings", s);
    });
  }
  function sourceFrame(win) {
    var found = null;
    document.querySelectorAll("iframe").forEach(function (f) { if (f.contentWindow === win) found = f; });
    return found;
  }

  window.addEventListener("message", function (event) {
    var m = event.data;
    if (!m || m.byokGallery !== 1) return;
    var from = sourceFrame(event.source);
    if (!from) return;
    if (from !== frame()) {
      if (m.type === "hello") send(from.contentWindow, "settings", {theme: currentTheme()});
      if (m.type === "size" && from.hasAttribute("data-autoheight")) autoHeight(from, m.content);
      return;
    }
    if (m.type === "hello") {
      if (typeof m.seq === "number") afterShown(m.seq);
      send(from.contentWindow, "settings", settings());
      clearActions();
      a11yState("Checking…");
      // a swap sent while the canvas was (re)loading never reached it: send it again
      if (view.last && view.frame === from && !(m.seq >= view.last.seq)) send(from.contentWindow, "show", view.last);
      else if (play.afterSeq && m.seq >= play.afterSeq) { play.afterSeq = 0; sendPlay(); } // a fresh canvas for the run
    } else if (m.type === "loaded") {
      if (tabChecked("a11y")) runA11y(); else a11yState("Not run yet: open this tab or select Run checks.");
    } else if (m.type === "size") {
      showSize(m.width, m.height);
    } else if (m.type === "action" && m.entry) {
      addAction(m.entry);
    } else if ((m.type === "play-step" || m.type === "play-done") && m.run === play.run) {
      playReport(m);
    } else if (m.type === "a11y") {
      showA11y(m);
    }
  });

  function autoHeight(el, content) {
    var h = Math.max(80, Math.min(900, Number(content) || 0));
    if (h > el.getBoundingClientRect().height + 1) el.style.height = h + "px"; // grow only
  }

  // ---------------------------------------------------------------- canvas tools
  // What reads the layout (a width for an ARIA value, the split's bounds, the sidebar's scroll)
  // waits for the page's load when it is still loading: read in DOMContentLoaded, it forced the
  // shell's first layout before the canvas's document could start (bench "cold load").
  function afterLoad(fn) {
    if (document.readyState === "complete") fn();
    else window.addEventListener("load", fn, {once: true});
  }
  function box() { return $("canvas-box"); }
  function setViewport(name, remember) {
    if (!(name in VIEWPORTS)) name = "responsive";
    var b = box();
    if (!b) return;
    var dims = VIEWPORTS[name];
    canvas.size = dims ? dims.slice() : null;
    if (remember) keep(VIEWPORT_KEY, name);
    var select = document.querySelector('[data-canvas-setting="viewport"]');
    if (select) select.value = name;
    layoutBox();
  }
  function layoutBox() {
    var b = box(), sizer = $("canvas-sizer");
    if (!b || !sizer) return;
    var w = canvas.size ? canvas.size[0] : null;
    var h = canvas.size ? canvas.size[1] : parseInt(b.getAttribute("data-height") || b.style.height, 10) || 560;
    if (!b.hasAttribute("data-height")) b.setAttribute("data-height", String(h));
    b.style.width = w ? w + "px" : "100%";
    b.style.height = h + "px";
    b.style.transform = canvas.zoom === 1 ? "" : "scale(" + canvas.zoom + ")";
    sizer.style.width = w ? Math.round(w * canvas.zoom) + "px" : (canvas.zoom === 1 ? "100%" : Math.round(100 * canvas.zoom) + "%");
    if (!w && canvas.zoom !== 1) b.style.width = (100 / 1) + "%";
    sizer.style.height = Math.round(h * canvas.zoom) + "px";
    var handle = document.querySelector("[data-canvas-resize]");
    if (handle && w) handle.setAttribute("aria-valuenow", String(w));
    else if (handle) afterLoad(function () { handle.setAttribute("aria-valuenow", String(Math.round(b.getBoundingClientRect().width / canvas.zoom))); });
    var zoom = $("canvas-zoom");
    if (zoom) zoom.textContent = Math.round(canvas.zoom * 100) + "%";
  }
  function showSize(w, h) {
    setText($("canvas-size"), Math.round(w) + " × " + Math.round(h));
  }
  function resizeTo(w, h) {
    canvas.size = [Math.max(200, Math.min(2560, Math.round(w))), Math.max(120, Math.min(2400, Math.round(h)))];
    var select = document.querySelector('[data-canvas-setting="viewport"]');
    if (select) select.value = "responsive";
    layoutBox();
  }
  function currentSize() {
    var b = box();
    var r = b.getBoundingClientRect();
    return [r.width / canvas.zoom, r.height / canvas.zoom];
  }

  document.addEventListener("pointerdown", function (event) {
    var handle = event.target.closest && event.target.closest("[data-canvas-resize]");
    if (!handle) return;
    event.preventDefault();
    var start = [event.clientX, event.clientY], size0 = currentSize();
    var b = box();
    b.setAttribute("data-dragging", "");
    handle.setPointerCapture(event.pointerId);
    function move(e) {
      resizeTo(size0[0] + (e.clientX - start[0]) / canvas.zoom, size0[1] + (e.clientY - start[1]) / canvas.zoom);
    }
    function up() {
      b.removeAttribute("data-dragging");
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      handle.removeEventListener("pointercancel", up);
    }
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
    handle.addEventListener("pointercancel", up);
  });

  // ---------------------------------------------------------------- panels split
  // The separator between the canvas and the panels docked under it: drag it, or focus it and
  // use the arrow keys (Page Up/Down: bigger steps, Home/End: smallest/largest). Its value is the
  // panels' share of the story's height, remembered; bounded so the canvas and the panels both
  // stay on screen. gallery.css shows it only where the panels are docked.
  var SPLIT_KEY = "byok-gallery-panels";
  var SPLIT = {min: 15, max: 75, step: 5, share: 40};  // percent of #story's height
  function splitter() { return document.querySelector("#story > [data-panels-split]"); }
  function splitBounds() {
    // the CSS's own limits (panels >= 8rem, canvas area >= 16rem), as shares of #story
    var story = $("story"), h = story ? story.clientHeight : 0;
    var rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    if (!h || h < 24 * rem) return [SPLIT.min, SPLIT.max];
    return [Math.max(SPLIT.min, Math.ceil(800 * rem / h)), Math.min(SPLIT.max, Math.floor(100 * (h - 16 * rem) / h))];
  }
  function setSplit(share, remember) {
    var panels = $("story-panels"), handle = splitter();
    if (!panels || !handle) return;
    var bounds = splitBounds();
    share = Math.max(bounds[0], Math.min(bounds[1], Math.round(Number(share) || SPLIT.share)));
    panels.style.height = share + "%";
    handle.setAttribute("aria-valuemin", String(bounds[0]));
    handle.setAttribute("aria-valuemax", String(bounds[1]));
    handle.setAttribute("aria-valuenow", String(share));
    if (remember) keep(SPLIT_KEY, share);
  }
  function mountSplit() {
    var story = $("story"), panels = $("story-panels");
    if (!story || !panels || panels.parentNode !== story) return;
    if (!splitter()) {
      var handle = make("div");
      handle.setAttribute("data-panels-split", "");
      handle.setAttribute("role", "separator");
      handle.setAttribute("aria-orientation", "horizontal");
      handle.setAttribute("aria-controls", "story-panels");
      handle.setAttribute("aria-label", "Resize the panels");
      handle.tabIndex = 0;
      story.insertBefore(handle, panels);
    }
    // the remembered share at once (live, the server rendered it; the CSS bounds it meanwhile),
    // its exact bounds once loaded
    var share = recall(SPLIT_KEY);
    if (typeof share === "number") panels.style.height = Math.max(SPLIT.min, Math.min(SPLIT.max, Math.round(share))) + "%";
    else share = parseFloat(panels.style.height) || null;
    afterLoad(function () { setSplit(share, false); });
  }
  document.addEventListener("pointerdown", function (event) {
    var handle = event.target.closest && event.target.closest("[data-panels-split]");
    if (!handle || event.button !== 0) return;
    event.preventDefault();
    handle.focus();
    var story = $("story"), y0 = event.clientY, share0 = Number(handle.getAttribute("aria-valuenow"));
    var h = story.getBoundingClientRect().height || 1;
    story.setAttribute("data-splitting", "");
    handle.setPointerCapture(event.pointerId);
    function move(e) { setSplit(share0 + 100 * (y0 - e.clientY) / h, false); }
    function up() {
      story.removeAttribute("data-splitting");
      setSplit(handle.getAttribute("aria-valuenow"), true);
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      handle.removeEventListener("pointercancel", up);
    }
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
    handle.addEventListener("pointercancel", up);
  });
  document.addEventListener("keydown", function (event) {
    var handle = event.target;
    if (!handle.matches || !handle.matches("[data-panels-split]")) return;
    var now = Number(handle.getAttribute("aria-valuenow")), bounds = splitBounds();
    var to = {
      ArrowUp: now + SPLIT.step, ArrowDown: now - SPLIT.step,
      PageUp: now + 3 * SPLIT.step, PageDown: now - 3 * SPLIT.step, Home: bounds[0], End: bounds[1]
    }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    setSplit(to, true);
  });
  window.addEventListener("resize", function () {
    var handle = splitter();
    if (handle) setSplit(handle.getAttribute("aria-valuenow"), false);
  });

  // ---------------------------------------------------------------- actions panel
  var actionCount = 0;
  var actionEntries = []; // kept while the Actions panel is not loaded (it is shown on demand)
  function tabChecked(value) {
    var radio = document.querySelector('input[name="story-tab"][value="' + value + '"]');
    return Boolean(radio && radio.checked);
  }
  function tabLabel(value, count) {
    var radio = document.querySelector('input[name="story-tab"][value="' + value + '"]');
    if (!radio) return;
    var base = radio.getAttribute("data-tab-label") || value;
    setAttr(radio, "aria-label", count === null ? base : base + " (" + count + ")");
  }
  function clearActions() {
    actionEntries = [];
    setText($("actions-log"), "");
    actionCount = 0;
    setHidden($("actions-empty"), false);
    tabLabel("actions", null);
  }
  function kv(pairs) {
    var dl = make("dl", "gallery-kv");
    pairs.forEach(function (p) {
      dl.appendChild(make("dt", "", p[0]));
      dl.appendChild(make("dd", "", p[1]));
    });
    return dl;
  }
  function section(title, content) {
    var wrap = make("div", "mt-2");
    wrap.appendChild(make("h3", "text-xs font-semibold uppercase tracking-wide", title));
    wrap.appendChild(content);
    return wrap;
  }
  function addAction(e) {
    actionEntries.push(e);
    actionCount += 1;
    tabLabel("actions", actionCount);
    renderAction(e);
  }
  function renderAction(e) {
    var log = $("actions-log");
    if (!log) return;
    var empty = $("actions-empty");
    if (empty) empty.hidden = true;
    var item = make("li", "gallery-action bg-base-200 rounded-box p-3");
    item.setAttribute("data-action", String(e.id));
    var details = make("details");
    var summary = make("summary", "font-mono text-sm");
    var status = e.status === "blocked" ? "blocked" : (e.error ? e.error : String(e.status));
    var ok = typeof e.status === "number" && e.status < 400;
    summary.appendChild(make("span", "badge badge-sm " + (ok ? "badge-success" : "badge-warning"), status));
    summary.appendChild(document.createTextNode(" " + e.method + " " + e.url));
    var swaps = (e.swaps || []).length;
    var meta = [];
    if (e.ms !== undefined) meta.push(e.ms + " ms");
    if (swaps) meta.push(swaps + (swaps === 1 ? " swap" : " swaps"));
    if (meta.length) summary.appendChild(make("span", "text-base-content/80", " · " + meta.join(" · ")));
    details.appendChild(summary);
    var body = make("div", "flex flex-col");
    var request = [["method", e.method], ["url", e.url]];
    if (e.sentTo) request.push(["sent to", e.sentTo + " (this story's sandbox)"]);
    request.push(["trigger", e.trigger], ["target", e.target]);
    if (e.note) request.push(["note", e.note]);
    body.appendChild(section("Request", kv(request)));
    if (e.headers && e.headers.length) body.appendChild(section("Request headers", kv(e.headers)));
    body.appendChild(section("Form fields", e.fields && e.fields.length ? kv(e.fields) : make("p", "text-xs", "none")));
    if (e.responseHeaders) {
      var response = [["status", status]];
      if (e.ms !== undefined) response.push(["time", e.ms + " ms"]);
      if (e.size !== undefined) response.push(["body", e.size + " characters"]);
      body.appendChild(section("Response", kv(response.concat(e.responseHeaders))));
    }
    if (swaps) {
      body.appendChild(section("Swapped", kv(e.swaps.map(function (s) {
        var how = s.missing ? "out of band: target missing" : (s.oob ? "out of band" : (s.style || "swap"));
        return [s.target, how];
      }))));
    }
    details.appendChild(body);
    item.appendChild(details);
    log.insertBefore(item, log.firstChild);
  }

  // ---------------------------------------------------------------- accessibility panel
  function a11yState(text) {
    setText($("a11y-summary"), text);
  }
  function runA11y() {
    var f = frame();
    if (!f) return;
    a11yState("Checking…");
    send(f.contentWindow, "a11y-run", {});
  }
  var lastA11y = null;
  function showA11y(m) {
    lastA11y = m;
    var list = $("a11y-list");
    if (!list) return;
    list.textContent = "";
    if (m.error) { a11yState("axe-core could not run: " + m.error); return; }
    var v = m.violations || [];
    var severe = v.filter(function (x) { return x.impact === "serious" || x.impact === "critical"; }).length;
    a11yState(v.length === 0 ? "No violations (" + (m.passes || 0) + " rules passed)." :
      v.length + (v.length === 1 ? " violation" : " violations") + ", " + severe + " serious or critical (" + (m.passes || 0) + " rules passed).");
    list.setAttribute("data-count", String(v.length));
    tabLabel("a11y", v.length);
    v.forEach(function (x) {
      var item = make("li", "bg-base-200 rounded-box p-3");
      item.setAttribute("data-violation", x.id);
      var head = make("p", "text-sm");
      head.appendChild(make("span", "badge badge-sm " + (x.impact === "critical" || x.impact === "serious" ? "badge-error" : "badge-warning"), x.impact || "minor"));
      head.appendChild(document.createTextNode(" " + x.help + " "));
      head.appendChild(make("code", "text-xs", x.id));
      item.appendChild(head);
      var nodes = make("ul", "mt-2 flex flex-col gap-1");
      (x.nodes || []).forEach(function (n) {
        var li = make("li", "flex flex-wrap items-center gap-2");
        var button = make("button", "btn btn-xs", "Highlight");
        button.type = "button";
        button.setAttribute("data-a11y-target", n.target);
        button.setAttribute("aria-label", "Highlight " + n.target + " in the canvas");
        li.appendChild(button);
        li.appendChild(make("code", "text-xs", n.target));
        if (n.summary) li.appendChild(make("span", "text-xs text-base-content/80 w-full", n.summary));
        nodes.appendChild(li);
      });
      item.appendChild(nodes);
      list.appendChild(item);
    });
  }

  // ---------------------------------------------------------------- panels on demand
  // A story page holds the selected tab's panel only; another tab's panel is an empty
  // #<name>-panel naming its route, loaded (htmx, outerHTML) as soon as the tab is pointed at or
  // focused, so it is usually there before the click: no empty panel, no jump.
  function panelURL(el) {
    var src = el.getAttribute("data-panel-src");
    if (!localPath(src)) return null;
    var query = new URLSearchParams(window.location.search);
    query.delete("tab"); // the arguments shown now (Controls pushes them into the URL)
    var rest = query.toString();
    return src.split("?")[0] + (rest ? "?" + rest : "");
  }
  function loadPanel(value) {
    if (!NAME.test(value || "")) return;
    var el = $(value + "-panel");
    if (!el || !el.hasAttribute("data-panel-src") || el.hasAttribute("data-loading") || !window.htmx) return;
    var url = panelURL(el);
    if (!url) return;
    el.setAttribute("data-loading", "");
    var shown = Array.prototype.filter.call(document.querySelectorAll("#story-panels .tab-content"), function (c) { return c.offsetHeight > 0; })[0];
    if (shown && shown !== el.parentNode) el.style.minHeight = Math.max(0, shown.clientHeight - 32) + "px";
    window.htmx.ajax("GET", url, {target: el, swap: "outerHTML"}).catch(function () { el.removeAttribute("data-loading"); });
  }
  function panelLoaded(el) {
    var name = el.id.slice(0, -"-panel".length);
    if (name === "actions") {
      actionEntries.forEach(renderAction);
    } else if (name === "a11y") {
      if (lastA11y) showA11y(lastA11y);
    } else if (name === "interactions") {
      renderPlay();
      if (tabChecked("interactions")) autoPlay();
    } else if (name === "controls") {
      markChanged();
    }
  }
  document.addEventListener("htmx:load", function (event) {
    var el = event.detail && event.detail.elt;
    if (el && el.id && /^[a-z0-9]+-panel$/.test(el.id) && el.parentNode && el.parentNode.classList.contains("tab-content")) panelLoaded(el);
  });
  ["pointerover", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var t = event.target;
      if (t && t.matches && t.matches('input[name="story-tab"]')) loadPanel(t.value);
    });
  });

  // ---------------------------------------------------------------- interactions panel
  // Run: the canvas gets the story afresh (a new sandbox), then play.js runs the steps and
  // reports each one; the panel shows them (the results are kept while the tab is closed).
  var play = {run: 0, started: false, steps: null, results: [], done: null, afterSeq: 0, auto: null, story: null};
  function playSteps() {
    var el = $("play-json");
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  function runPlay() {
    var steps = playSteps(), f = frame();
    if (!steps || !f) return;
    play.run += 1;
    play.started = true;
    play.steps = steps;
    play.results = [];
    play.done = null;
    renderPlay();
    var story = $("story");
    var src = view.wanted || (story && $("canvas-stage") && $("canvas-stage").getAttribute("data-canvas-src"));
    if (live() && view.frame === f && localPath(src)) {
      view.wanted = null; // asked again: the same URL, a new sandbox
      play.afterSeq = view.seq + 1;
      showCanvas(src, null);
    } else {
      sendPlay();
    }
  }
  function sendPlay() {
    var f = frame();
    if (f && play.steps) send(f.contentWindow, "play-run", {run: play.run, steps: play.steps});
  }
  function autoPlay() {
    var story = $("story");
    var key = story && story.getAttribute("data-story") + window.location.search;
    if (!playSteps() || play.auto === key) return;
    play.auto = key; // once per story (and arguments) opened
    runPlay();
  }
  function playReport(m) {
    if (m.type === "play-step" && m.step) play.results[m.step.index] = m.step;
    if (m.type === "play-done") {
      (m.steps || []).forEach(function (r) { play.results[r.index] = r; });
      play.done = {passed: Boolean(m.passed), error: m.error || null};
    }
    renderPlay();
  }
  var BADGES = {passed: "badge-success", failed: "badge-error", running: "badge-info", skipped: "badge-ghost", pending: "badge-ghost"};
  function renderPlay() {
    var list = $("play-steps"), summary = $("play-summary");
    if (!list || !summary) return;
    var total = list.querySelectorAll("[data-play-step]").length;
    var passed = play.results.filter(function (r) { return r && r.status === "passed"; }).length;
    list.querySelectorAll("[data-play-step]").forEach(function (row) {
      var r = play.results[parseInt(row.getAttribute("data-play-step"), 10)] || {status: "pending"};
      row.setAttribute("data-status", r.status);
      var badge = row.querySelector("[data-play-status]");
      badge.className = "badge badge-sm " + (BADGES[r.status] || "badge-ghost");
      badge.textContent = r.status;
      var meta = [];
      if (r.ms !== undefined && r.status !== "skipped") meta.push(r.ms + " ms");
      (r.requests || []).forEach(function (q) { meta.push(q.method + " " + q.path + " → " + (q.status === null ? "…" : q.status)); });
      (r.confirmed || []).forEach(function (q) { meta.push("confirmed: " + q); });
      row.querySelector("[data-play-meta]").textContent = meta.length ? " · " + meta.join(" · ") : "";
      var detail = row.querySelector("[data-play-detail]");
      detail.textContent = "";
      detail.hidden = r.status !== "failed";
      if (r.status === "failed") {
        detail.appendChild(make("p", "text-sm font-medium", "Why: " + (r.error || "failed")));
        if (r.snapshot) {
          detail.appendChild(make("p", "text-xs", "The canvas when it failed (a DOM snapshot, scripts removed):"));
          var shot = document.createElement("iframe");
          shot.setAttribute("sandbox", ""); // no scripts, no same-origin: a picture of the DOM
          shot.setAttribute("title", "Snapshot of the canvas when step " + (r.index + 1) + " failed");
          shot.setAttribute("data-play-snapshot", "");
          shot.className = "bg-base-100 border-base-300 rounded-box w-full border";
          shot.style.height = "260px";
          shot.srcdoc = r.snapshot;
          detail.appendChild(shot);
        }
      }
    });
    if (!play.started) { summary.textContent = "Not run yet."; tabLabel("interactions", null); return; }
    if (play.done && play.done.error) summary.textContent = "The play could not run: " + play.done.error;
    else if (play.done) summary.textContent = play.done.passed ? "Passed: " + passed + " of " + total + " steps." : "Failed: " + passed + " of " + total + " steps passed.";
    else summary.textContent = "Running… " + passed + " of " + total + " steps passed.";
    summary.setAttribute("data-state", play.done ? (play.done.passed ? "passed" : "failed") : "running");
    var run = document.querySelector("[data-play-run]");
    if (run) run.textContent = play.done ? "Rerun" : "Running…";
    tabLabel("interactions", play.done ? (play.done.passed ? "passed" : "failed") : null);
  }

  // ---------------------------------------------------------------- controls
  function controlValue(el) {
    if (el.type === "checkbox") return el.checked ? "true" : "false";
    return el.value;
  }
  function sameValue(el, a, b) {
    if ((el.type === "datetime-local" || el.type === "date") && a && b) {
      return Date.parse(a) === Date.parse(b); // the browser drops ":00" seconds
    }
    if (el.hasAttribute("data-json")) {
      try { return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b)); } catch (e) { return a === b; }
    }
    return a === b;
  }
  function markChanged() {
    var form = $("controls-form");
    if (!form) return;
    var changed = 0;
    form.querySelectorAll("[data-control]").forEach(function (field) {
      var el = field.querySelector("[data-default]");
      if (!el) return;
      var differs = !sameValue(el, controlValue(el), el.getAttribute("data-default"));
      setHidden(field.querySelector("[data-changed-marker]"), !differs);
      if (differs) changed += 1;
    });
    setText(form.querySelector("[data-changed-count]"), changed ? changed + " changed" : "");
  }
  function resetControl(el) {
    var value = el.getAttribute("data-default");
    if (el.type === "checkbox") el.checked = value === "true";
    else el.value = value;
    checkJSON(el);
  }
  function checkJSON(el) {
    if (!el.hasAttribute("data-json")) return;
    var slot = $(el.id + "-error");
    var message = "";
    if (el.value.trim()) {
      try { JSON.parse(el.value); } catch (e) { message = "Not valid JSON: " + e.message; }
    }
    if (message) el.setAttribute("aria-invalid", "true"); else el.removeAttribute("aria-invalid");
    if (slot) { slot.textContent = message; slot.hidden = !message; }
  }

  // ---------------------------------------------------------------- sidebar and search
  function tree() { return $("story-tree"); }
  function storyLinks(visibleOnly) {
    var t = tree();
    if (!t) return [];
    return Array.prototype.filter.call(t.querySelectorAll("a[data-story-link]"), function (a) {
      return !visibleOnly || a.closest("li[data-search]").hidden === false && !a.closest("[data-component]").hidden;
    });
  }
  function saveGroups() {
    var open = [];
    document.querySelectorAll("#story-tree details[data-group]").forEach(function (d) { if (d.open) open.push(d.getAttribute("data-group")); });
    keep(GROUPS_KEY, open);
  }
  function restoreGroups() {
    var open = recall(GROUPS_KEY);  // live: the server rendered them open
    if (!Array.isArray(open)) return;
    document.querySelectorAll("#story-tree details[data-group]").forEach(function (d) {
      if (open.indexOf(d.getAttribute("data-group")) !== -1) d.open = true;
    });
  }
  function editDistanceAtMostOne(a, b) {
    if (Math.abs(a.length - b.length) > 1) return false;
    var i = 0, j = 0, edits = 0;
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) { i++; j++; continue; }
      if (++edits > 1) return false;
      if (a[i + 1] === b[j + 1] && a[i + 1] !== undefined && a[i] === b[j + 1] && a[i + 1] === b[j]) { i += 2; j += 2; continue; } // swap
      if (a.length > b.length) i++; else if (a.length < b.length) j++; else { i++; j++; }
    }
    return edits + (a.length - i) + (b.length - j) <= 1;
  }
  function termMatches(term, text, words) {
    if (text.indexOf(term) !== -1) return 3;
    if (term.length < 3) return 0;
    for (var w = 0; w < words.length; w++) {
      var word = words[w];
      if (editDistanceAtMostOne(term, word.slice(0, term.length)) || editDistanceAtMostOne(term, word)) return 2;
    }
    var k = 0; // subsequence of the whole text ("kmc" finds key management card)
    for (var c = 0; c < text.length && k < term.length; c++) if (text[c] === term[k]) k++;
    return k === term.length && term.length >= 3 ? 1 : 0;
  }
  var groupsBefore = null;
  function filter(input) {
    var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var t = tree();
    if (!t) return;
    if (terms.length && groupsBefore === null) {
      groupsBefore = [];
      t.querySelectorAll("details[data-group]").forEach(function (d) { if (d.open) groupsBefore.push(d); });
    }
    var shown = 0;
    t.querySelectorAll("[data-search]").forEach(function (item) {
      var text = item.getAttribute("data-search");
      var words = text.split(/[\s,()·-]+/).filter(Boolean);
      var score = 0, match = true;
      for (var i = 0; i < terms.length; i++) {
        var s = termMatches(terms[i], text, words);
        if (!s) { match = false; break; }
        score += s;
      }
      item.hidden = !match;
      item.setAttribute("data-score", String(score));
      if (match) shown += 1;
    });
    t.querySelectorAll("[data-component]").forEach(function (component) {
      component.hidden = !component.querySelector("[data-search]:not([hidden])");
    });
    t.querySelectorAll("details[data-group]").forEach(function (d) {
      var any = d.querySelector("[data-component]:not([hidden])");
      d.parentNode.hidden = !any;
      if (terms.length) d.open = Boolean(any);
    });
    if (!terms.length && groupsBefore !== null) {
      t.querySelectorAll("details[data-group]").forEach(function (d) { d.open = groupsBefore.indexOf(d) !== -1; });
      groupsBefore = null;
      syncActive();
    }
    var empty = $("story-filter-empty");
    if (empty) empty.hidden = shown !== 0;
  }
  function bestMatch() {
    var best = null, top = -1;
    storyLinks(true).forEach(function (a) {
      var s = parseInt(a.closest("li[data-search]").getAttribute("data-score") || "0", 10);
      if (s > top) { top = s; best = a; }
    });
    return best;
  }
  function go(link) {
    if (!link) return;
    var details = link.closest("details");
    if (details) details.open = true;
    link.click();
  }
  function syncActive() {
    var here = window.location.pathname.replace(/\/$/, "") || "/";
    var active = null;
    document.querySelectorAll("#story-tree a").forEach(function (link) {
      var path = link.pathname.replace(/\/$/, "") || "/";
      var on = path === here;
      link.classList.toggle("menu-active", on);
      if (on) { link.setAttribute("aria-current", "page"); active = link; }
      else link.removeAttribute("aria-current");
    });
    if (active) {
      var details = active.closest("details");
      if (details && !details.open) details.open = true;
    }
    return active;
  }

  function isTyping(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (event) {
    var search = $("story-search");
    var target = event.target;
    if ((event.key === "k" || event.key === "K") && (event.ctrlKey || event.metaKey) && !event.altKey) {
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key === "/" && !isTyping(target) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      var links = storyLinks(false);
      var path = window.location.pathname.replace(/\/$/, "");  // the URL, even before syncActive ran
      var here = links.findIndex(function (a) { return a.pathname.replace(/\/$/, "") === path; });
      var next = event.key === "ArrowDown" ? here + 1 : here - 1;
      if (here === -1) next = event.key === "ArrowDown" ? 0 : links.length - 1;
      if (links[next]) { event.preventDefault(); go(links[next]); }
      return;
    }
    if (target === search) {
      if (event.key === "ArrowDown") {
        var first = storyLinks(true)[0];
        if (first) { event.preventDefault(); var d = first.closest("details"); if (d) d.open = true; first.focus(); }
      } else if (event.key === "Enter") {
        event.preventDefault();
        go(bestMatch());
      } else if (event.key === "Escape" && search.value) {
        search.value = ""; filter(search);
      }
      return;
    }
    if (target.matches && target.matches("#story-tree a[data-story-link]") && (event.key === "ArrowDown" || event.key === "ArrowUp" || event.key === "Escape")) {
      if (event.key === "Escape") { if (search) search.focus(); return; }
      var visible = storyLinks(true).filter(function (a) { var dd = a.closest("details"); return !dd || dd.open; });
      var at = visible.indexOf(target);
      var to = event.key === "ArrowDown" ? at + 1 : at - 1;
      event.preventDefault();
      if (to < 0 && search) search.focus();
      else if (visible[to]) visible[to].focus();
      return;
    }
    if (target.matches && target.matches("[data-canvas-resize]") && /^Arrow/.test(event.key)) {
      var step = event.shiftKey ? 50 : 10;
      var size = currentSize();
      if (event.key === "ArrowRight") size[0] += step;
      if (event.key === "ArrowLeft") size[0] -= step;
      if (event.key === "ArrowDown") size[1] += step;
      if (event.key === "ArrowUp") size[1] -= step;
      event.preventDefault();
      resizeTo(size[0], size[1]);
    }
  });

  // ---------------------------------------------------------------- events
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("[data-theme-select]") && NAME.test(el.value)) {
      document.documentElement.setAttribute("data-theme", el.value);
      keep(THEME_KEY, el.value);
      broadcast();
    } else if (el.matches('input[name="story-tab"]') && NAME.test(el.value)) {
      var url = new URL(window.location.href);
      url.searchParams.set("tab", el.value);
      window.history.replaceState(window.history.state, "", url);
      loadPanel(el.value);
      if (el.value === "a11y") runA11y();
      if (el.value === "interactions") autoPlay();
    } else if (el.matches('[data-canvas-setting="viewport"]')) {
      setViewport(el.value, true);
    } else if (el.matches('[data-canvas-setting="background"]') && NAME.test(el.value)) {
      canvas.background = el.value;
      var stage = $("canvas-stage");
      if (stage) stage.setAttribute("data-background", el.value);
      send(frame() && frame().contentWindow, "settings", {background: el.value});
    } else if (el.matches('[data-canvas-setting="layout"]') && NAME.test(el.value)) {
      canvas.layout = el.value;
      send(frame() && frame().contentWindow, "settings", {layout: el.value});
    }
    if (el.closest && el.closest("#controls-form")) { markChanged(); canvasFromControls(); }
  });
  document.addEventListener("input", function (event) {
    var el = event.target;
    if (el.matches("[data-story-filter]")) filter(el);
    if (el.closest && el.closest("#controls-form")) { checkJSON(el); markChanged(); canvasFromControls(); }
  });
  // a group opened or closed by the visitor (a click, or Enter/Space on its summary) is remembered
  document.addEventListener("click", function (event) {
    if (groupsBefore !== null || !event.target.closest) return;
    if (event.target.closest("#story-tree details[data-group] > summary")) window.setTimeout(saveGroups, 0);
  });

  document.addEventListener("click", function (event) {
    var t = event.target;
    var toggle = t.closest("[data-sidebar-toggle]");
    if (toggle) {
      var side = $("sidebar");
      var open = !side.hasAttribute("data-open");
      if (open) side.setAttribute("data-open", ""); else side.removeAttribute("data-open");
      toggle.setAttribute("aria-expanded", String(open));
      if (open) { var s = $("story-search"); if (s) s.focus(); }
      return;
    }
    var zoom = t.closest("[data-zoom]");
    if (zoom) {
      var step = parseInt(zoom.getAttribute("data-zoom"), 10);
      var i = ZOOMS.indexOf(canvas.zoom);
      canvas.zoom = step === 0 ? 1 : ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, i + step))];
      layoutBox();
      return;
    }
    var outline = t.closest("[data-canvas-outline]");
    if (outline) {
      canvas.outline = !canvas.outline;
      outline.setAttribute("aria-pressed", String(canvas.outline));
      send(frame() && frame().contentWindow, "settings", {outline: canvas.outline});
      return;
    }
    var measure = t.closest("[data-canvas-measure]");
    if (measure) {
      canvas.measure = !canvas.measure;
      measure.setAttribute("aria-pressed", String(canvas.measure));
      send(frame() && frame().contentWindow, "settings", {measure: canvas.measure});
      return;
    }
    if (t.closest("[data-actions-clear]")) { clearActions(); return; }
    if (t.closest("[data-play-run]")) { runPlay(); return; }
    if (t.closest("[data-a11y-run]")) { runA11y(); return; }
    var hl = t.closest("[data-a11y-target]");
    if (hl) { send(frame() && frame().contentWindow, "highlight", {target: hl.getAttribute("data-a11y-target")}); return; }
    var reset = t.closest("[data-control-reset]");
    if (reset) {
      var field = reset.closest("[data-control]");
      var el = field && field.querySelector("[data-default]");
      if (el) { resetControl(el); el.dispatchEvent(new Event("change", {bubbles: true})); }
      return;
    }
    if (t.closest("[data-controls-reset]")) {
      var form = $("controls-form");
      form.querySelectorAll("[data-default]").forEach(resetControl);
      form.dispatchEvent(new Event("change", {bubbles: true}));
      markChanged();
      return;
    }
    var copy = t.closest("[data-copy-target]");
    if (copy) copyFrom(copy);
  });

  function copyFrom(copy) {
    var source = $(copy.getAttribute("data-copy-target"));
    if (!source) return;
    var text = source.tagName === "TEXTAREA" ? source.value : source.textContent;
    var label = copy.querySelector("[data-copy-label]");
    var done = function () {
      copy.setAttribute("data-copied", "true");
      label.textContent = "Copied";
      window.setTimeout(function () {
        copy.removeAttribute("data-copied");
        label.textContent = label.getAttribute("data-copy-label") || "Copy";
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* not allowed */ }
      area.remove();
    }
  }

  // ---------------------------------------------------------------- in-place stories
  // A story switch and a control change never reload the canvas's document: the page fetches the
  // canvas page of the story (with the arguments) and canvas.js swaps its body in, and htmx
  // processes it. Each fetch is numbered; an answer older than the one sent last is dropped, so
  // out-of-order answers never show an old value. A control change's canvas answer also names the
  // story page's URL for its arguments (the address bar takes it at once); the panels (code,
  // HTML, errors) ask once the canvas has its answer and the controls rest, so the two never
  // compete; an answer it refuses (422) keeps the last good canvas (the Controls panel says why).
  var view = {frame: null, wanted: null, seq: 0, sent: 0, last: null, after: null};
  function localPath(src) { return typeof src === "string" && src.charAt(0) === "/" && src.charAt(1) !== "/"; }
  function live() { var s = $("story"); return Boolean(s && !s.hasAttribute("data-static") && window.fetch); }
  function showCanvas(src, form, then) {
    // fetch `src` into the canvas; `then` runs once the canvas says it shows it (its "hello"),
    // unless a newer one was asked for meanwhile. Its number, or 0: nothing fetched (`then` is
    // the caller's to run)
    var f = frame();
    if (!f || f !== view.frame || !localPath(src) || !live() || src === view.wanted) return 0;
    view.wanted = src;
    var seq = ++view.seq;
    var next = function () { if (then && seq === view.seq) then(); };
    window.fetch(src, {cache: "no-store", credentials: "same-origin"}).then(function (response) {
      return response.text().then(function (html) {
        if (seq > view.sent && f === frame() && (response.status === 200 || (response.status === 422 && !form))) {
          view.sent = seq;
          view.last = {html: html, src: src, seq: seq};
          showIn(f, view.last);
          // after the frame that shows it: replaceState costs ~2 ms (bench "control change")
          if (form) afterFrame(storyURL, response.headers.get("Gallery-Story-Url"), src);
          // what follows (the panels, the page around a story) waits for the canvas's hello, so
          // its request and swap never hold up the canvas's (bench "control change", "switch to
          // the dashboard story"); a canvas that refuses the answer never says so: a moment later
          view.after = {seq: seq, run: next};
          window.setTimeout(afterShown, 300, seq);
        } else next(); // an older answer than the one shown, another page, or refused arguments
      });
    }, function () {
      if (view.wanted === src) view.wanted = null; // the next change tries again
      next();
    });
    return seq;
  }
  function showIn(f, m) {
    // the canvas's own swap, called directly when it is ready for it (same origin); else a message
    var direct = null;
    try { direct = f.contentWindow.byokGalleryShow; } catch (e) { direct = null; }
    if (typeof direct === "function" && f.contentDocument.readyState !== "loading") direct(m);
    else send(f.contentWindow, "show", m);
  }
  function afterShown(seq) {
    // what waits for the canvas's answer `seq` (or a later one), once
    var p = view.after;
    if (p && seq >= p.seq) { view.after = null; p.run(); }
  }
  // The panels follow a control change once the controls rest: while typing, a panel swap landing
  // inside the next change held up its canvas (bench "control change", 35-85 ms samples).
  var REST_MS = 150, BURST_MS = 1000;
  function afterFrame(fn, a, b) { window.requestAnimationFrame(function () { window.setTimeout(fn, 0, a, b); }); }
  var urlAt = 0;
  function storyURL(url, src) {
    // the story page's URL for the arguments the canvas now shows (the server's, with only what
    // differs from the story), in the address bar at once, so a reload or a shared link has them;
    // a burst of changes (typing) is one history entry, and Back asks htmx for the one before
    var story = $("story"), open = $("canvas-open"), base = story && story.getAttribute("data-canvas-base");
    if (!base || !(src === base || src.indexOf(base + "?") === 0)) return; // another story since
    if (open) open.setAttribute("href", src);
    if (!localPath(url) || url === window.location.pathname + window.location.search) return;
    var now = Date.now();
    if (now - urlAt >= BURST_MS) {
      window.history.replaceState({htmx: true}, "", window.location.href); // htmx restores it on Back
      window.history.pushState({htmx: true}, "", url);
    } else window.history.replaceState({htmx: true}, "", url);
    urlAt = now;
  }
  function canvasOf(link) {
    // a link to a story page -> its canvas URL (the same arguments, without the tab)
    var m = /^\/story\/([^/]+)\/?$/.exec(link.pathname);
    if (!m) return null;
    var query = new URLSearchParams(link.search);
    query.delete("tab");
    var rest = query.toString();
    return "/story/" + m[1] + "/canvas" + (rest ? "?" + rest : "");
  }
  // A link inside [data-boost] (Site.boost) loads its page's #main in place and pushes its URL,
  // as hx-boost would, through this one listener (its target and swap are the area's htmx
  // attributes). A story's canvas comes first: the page around it is asked for once the canvas
  // shows the story (bench "switch to the dashboard story": its #main swap took 30-70 ms).
  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || !window.htmx || !link.closest("[data-boost]") || link.target || link.hasAttribute("download")) return;
    if (link.origin !== window.location.origin || link.protocol !== window.location.protocol) return;
    if (link.hash && link.pathname === window.location.pathname && link.search === window.location.search) return;
    event.preventDefault();
    if (nav.from) window.htmx.trigger(nav.from, "htmx:abort"); // an older page not in yet
    var src = canvasOf(link), seq = 0;
    var page = function () {
      var done = function () {
        if (nav.from === link) nav.from = null;
        if (seq && nav.seq === seq) nav.seq = 0; // its page is in: Back and Forward move the canvas again
      };
      nav.from = link;
      window.htmx.ajax("get", link.pathname + link.search, {source: link, headers: {"HX-Boosted": "true"}}).then(done, done);
    };
    seq = src ? showCanvas(src, null, page) : 0;
    nav.seq = seq;
    if (!seq) page();
  });
  // The story click whose page is still to come (its canvas request's number) and the link whose
  // page request is in flight: a page swapped in late (the previous click's) never takes the
  // canvas back from the story clicked since, and is aborted if not in yet.
  var nav = {seq: 0, from: null};
  function canvasFromControls() {
    var form = $("controls-form"), story = $("story");
    if (!form || !story || !form.hasAttribute("hx-get")) return;
    var query = new URLSearchParams(new FormData(form)).toString();
    var panels = function () {
      var at = view.seq; // a newer change while the controls rest asks again itself
      window.setTimeout(function () { if (at === view.seq && window.htmx && form.isConnected) window.htmx.trigger(form, "gallery-panels"); }, REST_MS);
    };
    showCanvas(story.getAttribute("data-canvas-base") + (query ? "?" + query : ""), form, panels);
  }
  // A story page's answer replaces #main, but the canvas iframe on the page is kept (hx-preserve):
  // the answer's own iframe must not start loading in the moment before htmx swaps it out.
  function withoutCanvasSrc(html) {
    if (!view.frame || !view.frame.isConnected) return html;
    return html.replace(/<iframe\b[^>]*\bid="canvas-frame"[^>]*>/, function (tag) {
      return tag.replace(/\ssrc="[^"]*"/, "");
    });
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var d = event.detail;
    if (!d || !d.target || d.target.id !== "main" || typeof d.serverResponse !== "string") return;
    d.serverResponse = withoutCanvasSrc(d.serverResponse);
  });
  function adoptFrame() {
    // after #main changed: the kept iframe is told what to show; a new one is adopted (started
    // here if its src was held back)
    var f = frame(), stage = $("canvas-stage");
    if (!f || !stage) { view.frame = null; return; }
    if (f !== view.frame) {
      view.frame = f;
      view.sent = view.seq;
      view.last = null;
      if (!f.hasAttribute("src")) f.setAttribute("src", stage.getAttribute("data-canvas-src"));
      view.wanted = f.getAttribute("src");
      return;
    }
    f.title = stage.getAttribute("data-canvas-title") || f.title;
    if (nav.seq !== view.seq) showCanvas(stage.getAttribute("data-canvas-src"), null);
    var layout = document.querySelector('[data-canvas-setting="layout"]');
    send(f.contentWindow, "settings", {background: "page", outline: false, measure: false, layout: layout ? layout.value : null});
  }

  function sync() {
    var current = currentTheme();
    document.querySelectorAll("[data-theme-select]").forEach(function (select) { select.value = current; });
    syncActive();
    var tab = new URLSearchParams(window.location.search).get("tab");
    if (tab && NAME.test(tab)) {
      var radio = document.querySelector('input[name="story-tab"][value="' + tab + '"]');
      if (radio && !radio.checked) radio.checked = true;
    }
    var story = $("story"), checked = document.querySelector('input[name="story-tab"]:checked');
    if (story && play.story !== story.getAttribute("data-story")) { // another story: its own play
      play = {run: play.run + 1, started: false, steps: null, results: [], done: null, afterSeq: 0, auto: null, story: story.getAttribute("data-story")};
    }
    if (checked) loadPanel(checked.value);
    if (checked && checked.value === "interactions") autoPlay();
    if (box()) {
      canvas.zoom = 1; canvas.layout = null; canvas.outline = false; canvas.measure = false; canvas.background = "page";
      var viewport = document.querySelector('[data-canvas-setting="viewport"]');  // live: remembered
      setViewport(recall(VIEWPORT_KEY) || (viewport && viewport.value) || "responsive", false);
    }
    markChanged();
    mountSplit();
    var side = $("sidebar");
    if (side && side.hasAttribute("data-open")) {
      side.removeAttribute("data-open");
      var toggle = document.querySelector("[data-sidebar-toggle]");
      if (toggle) toggle.setAttribute("aria-expanded", "false");
    }
  }

  // Previews (index cards, docs pages) load once the page has, and only when scrolled near:
  // the page's own load never waits for a dozen canvases.
  function loadPreviews() {
    var frames = document.querySelectorAll("iframe[data-src]");
    if (!frames.length) return;
    var start = function (f) { if (f.hasAttribute("data-src")) { f.src = f.getAttribute("data-src"); f.removeAttribute("data-src"); } };
    if (!window.IntersectionObserver) { frames.forEach(start); return; }
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) { start(e.target); seen.unobserve(e.target); } });
    }, {rootMargin: "200px"});
    frames.forEach(function (f) { seen.observe(f); });
  }
  afterLoad(loadPreviews);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "main") loadPreviews();
  });

  // gallery.js starts once the page, its canvas with it, has loaded (ui/assets.py
  // shell_loader); the canvas replays what it said before anyone listened
  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }
  ready(function () {
    restoreGroups();
    adoptFrame();
    var f = frame();
    if (f) send(f.contentWindow, "greet", {});
    sync();
    afterLoad(function () {
      var active = document.querySelector('#story-tree a[aria-current="page"]');
      if (active) active.scrollIntoView({block: "nearest"});
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "main") adoptFrame();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "main") sync();
  });
  window.addEventListener("popstate", function () { window.setTimeout(sync, 0); });
  // Back and Forward are in place too: htmx asks for the page of the URL (no page cache, so
  // never a stale one) and swaps its #main (hx-history-elt) in; the canvas iframe is kept, as
  // on a story switch, and shows the story (with the URL's arguments) once #main is back.
  document.addEventListener("htmx:historyCacheMissLoad", function (event) {
    var d = event.detail;
    if (d && typeof d.response === "string") d.response = withoutCanvasSrc(d.response);
  });
  document.addEventListener("htmx:historyRestore", function () {
    adoptFrame();
    sync();
    loadPreviews();
  });

  // Hot reload (`gallery --reload`): the page knows the state it was rendered at; a long-poll
  // answers when a story or component changed (reload the page) or failed to load (say why).
  function watchForReload() {
    var marker = document.querySelector('meta[name="gallery-reload"]');
    if (!marker || !window.fetch) return;
    var state = marker.getAttribute("content") || "";
    var version = state.slice(0, state.lastIndexOf("-"));
    var showError = function (text) {
      var box = document.getElementById("gallery-reload-error");
      if (!text) {
        if (box) box.remove();
        return;
      }
      if (!box) {
        box = document.createElement("div");
        box.id = "gallery-reload-error";
        box.setAttribute("role", "alert");
        box.className = "alert alert-error rounded-none items-start";
        box.appendChild(document.createElement("pre"));
        box.firstChild.className = "text-xs overflow-x-auto";
        document.body.insertBefore(box, document.body.firstChild);
      }
      box.firstChild.textContent = "Reload failed; showing the last good stories.\n" + text;
    };
    var poll = function () {
      window.fetch("/__reload?s=" + encodeURIComponent(state), {cache: "no-store"})
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (answer.version !== version) {
            window.location.reload();
            return;
          }
          state = answer.state;
          showError(answer.error);
          poll();
        })
        .catch(function () { window.setTimeout(poll, 250); });  // restarting: try again
    };
    poll();
  }
  // (the marker is parsed by now: this script starts after the page's load; `ready` in case)
  ready(watchForReload);
})();
