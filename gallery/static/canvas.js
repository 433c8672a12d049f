/* byok gallery canvas: runs inside the story's iframe (deferred: the inline script at the top of
   <head> sets the remembered theme before the first paint).
   - applies the story page's settings (theme, background,
     outline, layout) sent with postMessage;
   - sends the key routes (/api/keys..., /account/api-keys...: data-sandbox-paths) to the story's
     sandbox (data-sandbox on <body>), and the sandbox's own links back to it;
   - logs every htmx request (method, URL, headers, form fields with key values masked, status,
     response headers, swapped elements, timing) to the story page's Actions panel;
   - in the static export (data-static), answers a request the export recorded (same method and
     path, gallery-recordings in the body) with the recorded answer, through htmx's own response
     handling (the XHR's send is replaced); stops any other request and says the live gallery is
     needed;
   - runs axe-core on request (Accessibility panel) and highlights a node it names;
   - measures (toolbar's Measure, or Alt held): distances between a clicked and a hovered element;
   - shows another story (or new arguments) in place: the story page sends a canvas page's HTML,
     its body replaces this one's (same document, so no reload), htmx processes it.
   Messages go to window.parent only, and only messages from window.parent are obeyed. */
(function () {
  "use strict";
  var NAME = /^[a-z][a-z0-9-]{0,31}$/;
  var WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]; // the Accessibility panel's rules
  var root = document.documentElement;
  var embedded = window.parent && window.parent !== window;


  // What the canvas says before its parent first speaks is kept too: the story page's scripts
  // start once the canvas has loaded (bench "cold load"), then greet it for a replay
  var early = [];
  function post(type, data) {
    if (!embedded) return;
    var message = {byokGallery: 1, type: type, story: document.body && document.body.getAttribute("data-story")};
    for (var k in data) message[k] = data[k];
    if (early && early.length < 500) early.push(message);
    window.parent.postMessage(message, "*");
  }

  // ---------------------------------------------------------------- masking
  var SECRET_NAME = /(^|[_-])(api[_-]?key|key|secret|token|password|pass(word)?|csrf[_-]?token)$/i;
  var KEY_LIKE = /^(sk-|sk_|gsk_|AIza|xai-|pk_|rk_|acme_)/;
  function maskValue(value) {
    if (value.length < 12) return value ? "•".repeat(Math.min(value.length, 8)) : "";
    return value.slice(0, 4) + "…" + value.slice(-4);
  }
  function maskField(name, value) {
    if (typeof value !== "string") return "(file)";
    if (SECRET_NAME.test(name) || KEY_LIKE.test(value)) return maskValue(value);
    return value;
  }
  function maskHeader(name, value) {
    value = String(value);
    return /csrf|token|authorization|cookie/i.test(name) ? maskValue(value) : value;
  }

  function describe(el) {
    if (!el || el.nodeType !== 1) return "?";
    if (el.id) return "#" + el.id;
    var cls = (el.getAttribute("class") || "").split(/\s+/).filter(Boolean).slice(0, 2);
    return el.tagName.toLowerCase() + (cls.length ? "." + cls.join(".") : "");
  }

  // ---------------------------------------------------------------- actions
  var seq = 0;
  var current = null; // the entry whose answer is being swapped
  function sandboxed(path) {
    var body = document.body;
    var token = body && body.getAttribute("data-sandbox");
    if (!token) return null;
    var url;
    try { url = new URL(path, window.location.href); } catch (e) { return null; }
    if (url.origin !== window.location.origin) return null;
    var base = body.getAttribute("data-sandbox-url") || "";
    var path = url.pathname;
    if (base && path.indexOf(base + "/") === 0) path = path.slice(base.length); // an answer's own link
    var prefixes = (body.getAttribute("data-sandbox-paths") || "").split(" ").filter(Boolean);
    for (var i = 0; i < prefixes.length; i++) {
      var p = prefixes[i];
      if (path === p || path.indexOf(p + "/") === 0) return base + path + url.search;
    }
    return null;
  }

  function notice(text) { // in the flow above the story, never over it (a toast would cover it)
    var old = document.querySelector("[data-gallery-notice]");
    if (old) old.parentNode.removeChild(old);
    var el = document.createElement("div");
    el.setAttribute("role", "status");
    el.className = "alert alert-info rounded-none";
    el.setAttribute("data-gallery-notice", "");
    el.textContent = text;
    document.body.insertBefore(el, document.body.firstChild);
    setTimeout(function () { if (el.parentNode) el.parentNode.removeChild(el); }, 6000);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var d = event.detail;
    var entry = {
      id: ++seq,
      method: String(d.verb || "get").toUpperCase(),
      url: d.path,
      sentTo: null,
      trigger: describe(d.elt),
      target: describe(d.target),
      swap: (d.elt && d.elt.closest && d.elt.closest("[hx-swap]") || {getAttribute: function () { return null; }}).getAttribute("hx-swap") || "innerHTML",
      headers: [],
      fields: [],
      swaps: [],
      start: performance.now()
    };
    var sandbox = sandboxed(d.path);
    if (sandbox) {
      d.path = sandbox;
      entry.sentTo = sandbox;
      d.headers[document.body.getAttribute("data-sandbox-header")] = document.body.getAttribute("data-sandbox");
    }
    for (var name in d.headers) entry.headers.push([name, maskHeader(name, d.headers[name])]);
    if (d.formData && d.formData.forEach) {
      d.formData.forEach(function (value, key) { entry.fields.push([key, maskField(key, value)]); });
    }
    if (document.body.hasAttribute("data-static")) {
      var answer = recorded(entry.method, d.path);
      if (answer) {
        entry.sentTo = null;
        entry.note = "recorded: the live gallery's answer, kept by the export (nothing was sent)";
        d.__galleryEntry = entry;
        d.__galleryReplay = answer;
        return;
      }
      event.preventDefault();
      entry.status = "blocked";
      entry.note = "Static copy: requests need the live gallery (uv run gallery).";
      post("action", {entry: entry});
      notice("This story sends requests: they need the live gallery (run uv run gallery).");
      return;
    }
    d.__galleryEntry = entry;
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var config = event.detail.requestConfig;
    if (config && config.__galleryEntry) event.detail.xhr.__galleryEntry = config.__galleryEntry;
    if (config && config.__galleryReplay) replay(event.detail.xhr, config.__galleryReplay);
  });

  // ---------------------------------------------------------------- recorded answers (export)
  function recorded(method, path) {
    var el = document.getElementById("gallery-recordings");
    if (!el) return null;
    var data;
    try { data = JSON.parse(el.textContent); } catch (e) { return null; }
    var list = data.answers || [];
    for (var i = 0; i < list.length; i++) {
      var a = list[i];
      if (a.method !== method || a.path !== path) continue;
      // its body is stored as the places of its pieces (each distinct piece once: recordings.py)
      var body = a.body.map(function (n) { return data.pieces[n]; }).join("");
      return {method: a.method, path: a.path, status: a.status, headers: a.headers, body: body};
    }
    return null;
  }
  function replay(xhr, answer) {
    // the opened XHR is never sent: its answer is the recording, read by htmx as a real one
    function own(name, value) { Object.defineProperty(xhr, name, {value: value, configurable: true}); }
    var headers = {};
    answer.headers.forEach(function (h) { headers[h[0].toLowerCase()] = h[1]; });
    own("send", function () {
      setTimeout(function () {
        own("readyState", 4);
        own("status", answer.status);
        own("statusText", "");
        own("responseText", answer.body);
        own("response", answer.body);
        own("responseURL", "");
        own("getResponseHeader", function (name) {
          var value = headers[String(name).toLowerCase()];
          return value === undefined ? null : value;
        });
        own("getAllResponseHeaders", function () {
          return answer.headers.map(function (h) { return h[0] + ": " + h[1] + "\r\n"; }).join("");
        });
        if (typeof xhr.onload === "function") xhr.onload();
      }, 0);
    });
    own("abort", function () {});
  }

  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    var entry = xhr && xhr.__galleryEntry;
    if (!entry) return;
    entry.status = xhr.status;
    entry.ms = Math.round(performance.now() - entry.start);
    entry.responseHeaders = [];
    (xhr.getAllResponseHeaders() || "").trim().split(/[\r\n]+/).forEach(function (line) {
      var at = line.indexOf(":");
      if (at < 1) return;
      var name = line.slice(0, at).trim();
      if (/^(hx-|byok-|content-type|vary|location)/i.test(name)) {
        entry.responseHeaders.push([name, line.slice(at + 1).trim()]);
      }
    });
    entry.size = (xhr.responseText || "").length;
    current = entry;
  });

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (current) current.swaps.push({target: describe(event.detail.target), oob: true});
  });
  document.addEventListener("htmx:oobErrorNoTarget", function (event) {
    var content = event.detail && event.detail.content;
    if (current) current.swaps.push({target: describe(content), oob: true, missing: true});
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var entry = current;
    if (!entry) return;
    var xhr = event.detail.xhr;
    var reswap = xhr && xhr.getResponseHeader("HX-Reswap");
    var retarget = xhr && xhr.getResponseHeader("HX-Retarget");
    entry.swaps.push({
      target: retarget || (event.detail.target && event.detail.target.isConnected ? describe(event.detail.target) : entry.target),
      style: reswap || entry.swap,
      oob: false
    });
  });
  function finish(event, error) {
    var xhr = event.detail.xhr;
    var entry = xhr && xhr.__galleryEntry;
    if (!entry || entry.done) return;
    entry.done = true;
    if (entry.ms === undefined) entry.ms = Math.round(performance.now() - entry.start);
    if (error) entry.error = error;
    if (current === entry) current = null;
    delete entry.start;
    post("action", {entry: entry});
  }
  document.addEventListener("htmx:afterRequest", function (event) { finish(event, null); });
  document.addEventListener("htmx:sendError", function (event) { finish(event, "network error"); });
  document.addEventListener("htmx:timeout", function (event) { finish(event, "timed out"); });

  // ---------------------------------------------------------------- settings from the page
  // the page sends its settings on every hello (each swap): an unchanged one writes nothing, as a
  // write on <html> restyles the whole canvas (bench "control change")
  function setAttr(el, name, value) {
    if (value === null) { if (el.hasAttribute(name)) el.removeAttribute(name); }
    else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  }
  function apply(settings) {
    if (settings.theme && NAME.test(settings.theme)) setAttr(root, "data-theme", settings.theme);
    if (settings.background && NAME.test(settings.background)) setAttr(root, "data-background", settings.background);
    if (typeof settings.outline === "boolean") setAttr(root, "data-outline", settings.outline ? "" : null);
    if (settings.layout && NAME.test(settings.layout) && document.body) setAttr(document.body, "data-layout", settings.layout);
    if (typeof settings.measure === "boolean") measuring(settings.measure);
  }

  // ---------------------------------------------------------------- accessibility
  function loadAxe(done) {
    if (window.axe) return done();
    var meta = document.querySelector('meta[name="byok-gallery-axe"]');
    if (!meta) return done(new Error("axe-core is not available"));
    var script = document.createElement("script");
    script.src = meta.getAttribute("content");
    script.onload = function () { done(); };
    script.onerror = function () { done(new Error("axe-core could not be loaded (run npm ci)")); };
    document.head.appendChild(script);
  }
  function runAxe() {
    loadAxe(function (err) {
      if (err) return post("a11y", {error: err.message});
      window.axe.run(document, {resultTypes: ["violations"], runOnly: {type: "tag", values: WCAG}, preload: false}).then(function (result) {
        var violations = result.violations.map(function (v) {
          return {
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.slice(0, 20).map(function (n) {
              return {target: n.target.join(" "), html: (n.html || "").slice(0, 240), summary: n.failureSummary || ""};
            })
          };
        });
        post("a11y", {violations: violations, passes: result.passes ? result.passes.length : 0});
      }, function (e) { post("a11y", {error: String(e && e.message || e)}); });
    });
  }
  function highlight(selector) {
    document.querySelectorAll("[data-gallery-highlight]").forEach(function (el) { el.removeAttribute("data-gallery-highlight"); });
    if (!selector) return;
    var el = null;
    try { el = document.querySelector(selector); } catch (e) { return; }
    if (!el) return;
    el.setAttribute("data-gallery-highlight", "");
    el.scrollIntoView({block: "center", inline: "nearest"});
  }

  // ---------------------------------------------------------------- measure
  // On (the toolbar's Measure) or while Alt is held: a click picks an element, hovering another
  // shows their distances in CSS pixels (drawn as lines, summed up in [data-gallery-measure]).
  var measure = {on: false, picked: null, layer: null};
  function layer() {
    if (!measure.layer || !measure.layer.isConnected) {
      measure.layer = document.createElement("div");
      measure.layer.setAttribute("data-gallery-measure-layer", "");
      measure.layer.setAttribute("aria-hidden", "true");
      measure.layer.style.cssText = "position:fixed;inset:0;pointer-events:none;z-index:2147483647;";
      root.appendChild(measure.layer);
    }
    return measure.layer;
  }
  function mark(css, text) {
    var el = document.createElement("div");
    el.style.cssText = "position:fixed;box-sizing:border-box;" + css;
    if (text) el.textContent = text;
    layer().appendChild(el);
    return el;
  }
  function outlineBox(r, colour) {
    mark("left:" + r.left + "px;top:" + r.top + "px;width:" + r.width + "px;height:" + r.height + "px;border:1px solid " + colour + ";");
  }
  function tag(x, y, text) {
    mark("left:" + x + "px;top:" + y + "px;transform:translate(-50%,-50%);background:#db2777;color:#fff;font:11px/1.4 ui-monospace,monospace;padding:0 4px;border-radius:3px;", text);
  }
  // The gaps along one axis: between the boxes when apart, else between their matching edges.
  function spans(a1, a2, b1, b2) {
    if (b1 >= a2) return [[a2, b1]];
    if (a1 >= b2) return [[b2, a1]];
    var out = [];
    if (a1 !== b1) out.push([Math.min(a1, b1), Math.max(a1, b1)]);
    if (a2 !== b2) out.push([Math.min(a2, b2), Math.max(a2, b2)]);
    return out;
  }
  function px(n) { return Math.round(n * 10) / 10 + " px"; }
  function draw(hovered) {
    var l = layer();
    l.replaceChildren();
    var a = measure.picked && measure.picked.isConnected ? measure.picked.getBoundingClientRect() : null;
    var b = hovered.getBoundingClientRect();
    outlineBox(b, "#2563eb");
    if (!a || measure.picked === hovered) {
      tag(b.left + b.width / 2, b.bottom + 8, px(b.width) + " × " + px(b.height));
      mark("display:none", "").setAttribute("data-gallery-measure", px(b.width) + " × " + px(b.height));
      return;
    }
    outlineBox(a, "#db2777");
    var ys = Math.max(a.top, b.top), ye = Math.min(a.bottom, b.bottom);
    var y = ys < ye ? (ys + ye) / 2 : b.top + b.height / 2;
    var xs = Math.max(a.left, b.left), xe = Math.min(a.right, b.right);
    var x = xs < xe ? (xs + xe) / 2 : b.left + b.width / 2;
    var across = spans(a.left, a.right, b.left, b.right), down = spans(a.top, a.bottom, b.top, b.bottom);
    across.forEach(function (s) {
      mark("left:" + s[0] + "px;top:" + y + "px;width:" + (s[1] - s[0]) + "px;border-top:1px dashed #db2777;");
      tag((s[0] + s[1]) / 2, y - 9, px(s[1] - s[0]));
    });
    down.forEach(function (s) {
      mark("left:" + x + "px;top:" + s[0] + "px;height:" + (s[1] - s[0]) + "px;border-left:1px dashed #db2777;");
      tag(x + 4, (s[0] + s[1]) / 2, px(s[1] - s[0]));
    });
    var say = function (list) { return list.map(function (s) { return px(s[1] - s[0]); }).join(", ") || "0 px"; };
    mark("display:none", "").setAttribute("data-gallery-measure", "horizontal " + say(across) + "; vertical " + say(down));
  }
  function clearMeasure() {
    measure.picked = null;
    if (measure.layer) measure.layer.replaceChildren();
  }
  function measuring(on) {
    measure.on = on;
    if (!on) clearMeasure();
  }
  function target(event) {
    var el = event.target;
    return el && el.nodeType === 1 && el !== root && el !== document.body ? el : null;
  }
  document.addEventListener("mousemove", function (event) {
    if (!(measure.on || event.altKey)) { if (measure.layer && !measure.picked) measure.layer.replaceChildren(); return; }
    var el = target(event);
    if (el) draw(el);
  }, true);
  document.addEventListener("click", function (event) {
    if (!(measure.on || event.altKey)) return;
    event.preventDefault(); // measuring, not using: the click picks, it does not press
    event.stopPropagation();
    measure.picked = target(event);
    if (measure.picked) draw(measure.picked);
  }, true);

  // ---------------------------------------------------------------- in-place stories
  // What this document shows: the canvas URL it was loaded or last swapped from, and the number
  // of that swap (0: loaded). A swap older than the one shown is ignored (the last value wins).
  var shown = {src: window.location.pathname + window.location.search, seq: 0};
  var waiting = null; // a swap that arrived while the page was still parsing
  function fresh(old) {
    var script = document.createElement("script");
    for (var i = 0; i < old.attributes.length; i++) script.setAttribute(old.attributes[i].name, old.attributes[i].value);
    script.text = old.text;
    return script;
  }
  function swapIn(m) {
    if (typeof m.html !== "string" || typeof m.src !== "string" || !(m.seq > shown.seq)) return false;
    if (document.readyState === "loading") { waiting = m; return false; }
    var doc = new DOMParser().parseFromString(m.html, "text/html");
    if (!doc.getElementById("story-root")) return false;
    shown = {src: m.src, seq: m.seq};
    clearMeasure(); // the picked element leaves with the old story
    var body = document.body, next = doc.body, i;
    for (i = body.attributes.length - 1; i >= 0; i--) {
      if (!next.hasAttribute(body.attributes[i].name)) body.removeAttribute(body.attributes[i].name);
    }
    for (i = 0; i < next.attributes.length; i++) setAttr(body, next.attributes[i].name, next.attributes[i].value);
    document.title = doc.title;
    var nodes = Array.prototype.map.call(next.childNodes, function (n) { return n; });
    body.replaceChildren.apply(body, nodes.map(function (n) { return document.adoptNode(n); }));
    body.querySelectorAll("script").forEach(function (old) { old.replaceWith(fresh(old)); }); // as on a load
    if (window.htmx) {
      window.htmx.process(body);
      nodes.forEach(function (n) { if (n.nodeType === 1) window.htmx.trigger(n, "htmx:load"); });
    }
    hello();
    requestAnimationFrame(function () { post("loaded", {}); size(); });
    return true;
  }
  // the story page (same origin) hands a fetched answer over directly, one task sooner than a
  // message (bench "control change"); only the parent window may: it is the one that can see it
  if (embedded) window.byokGalleryShow = function (m) { return swapIn(m); };
  function hello() {
    post("hello", {src: shown.src, seq: shown.seq});
    size();
  }

  window.addEventListener("message", function (event) {
    if (!embedded || event.source !== window.parent) return;
    var m = event.data;
    if (!m || m.byokGallery !== 1) return;
    var said = early;
    early = null;  // the parent listens: nothing more to keep
    if (m.type === "greet") (said || []).forEach(function (message) { window.parent.postMessage(message, "*"); });
    else if (m.type === "settings") apply(m);
    else if (m.type === "show") swapIn(m);
    else if (m.type === "a11y-run") runAxe();
    else if (m.type === "highlight") highlight(typeof m.target === "string" ? m.target : "");
  });

  // ---------------------------------------------------------------- size
  function size() {
    post("size", {width: window.innerWidth, height: window.innerHeight, content: Math.ceil(root.scrollHeight)});
  }
  document.addEventListener("DOMContentLoaded", function () {
    var early = waiting;
    waiting = null;
    if (!(early && swapIn(early))) hello();
    if (window.ResizeObserver) new ResizeObserver(size).observe(document.body);
    window.addEventListener("resize", size);
  });
  window.addEventListener("load", function () { post("loaded", {}); size(); });
})();
