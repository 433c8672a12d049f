/* byok gallery: theme and viewport switchers, sidebar search, copy buttons, tab permalinks,
   hot reload.
   It reads data-* attributes and localStorage; the one server text it shows (a failed reload's
   traceback) goes in as textContent, never as markup. */
(function () {
  "use strict";
  var THEME_KEY = "byok-gallery-theme";
  var VIEWPORT_KEY = "byok-gallery-viewport";
  var NAME = /^[a-z][a-z0-9-]{0,31}$/;

  function stored(key) {
    try {
      var value = window.localStorage.getItem(key);
      return value && NAME.test(value) ? value : null;
    } catch (e) {
      return null;
    }
  }
  function store(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (e) {
      /* private mode: not remembered */
    }
  }

  // Theme: applied before the first paint (this script sits in <head>).
  var theme = stored(THEME_KEY);
  if (theme) document.documentElement.setAttribute("data-theme", theme);

  function syncControls() {
    var current = document.documentElement.getAttribute("data-theme") || "light";
    document.querySelectorAll("[data-theme-select]").forEach(function (select) {
      select.value = current;
    });
    var viewport = stored(VIEWPORT_KEY) || "desktop";
    document.querySelectorAll("[data-canvas]").forEach(function (canvas) {
      canvas.setAttribute("data-viewport", viewport);
    });
    document.querySelectorAll("[data-viewport-button]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.value === viewport));
    });
    var here = window.location.pathname;
    document.querySelectorAll("#story-tree a").forEach(function (link) {
      var on = link.pathname === here;
      link.classList.toggle("menu-active", on);
      if (on) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    var tab = new URLSearchParams(window.location.search).get("tab");
    if (tab && NAME.test(tab)) {
      var radio = document.querySelector('input[name="story-tab"][value="' + tab + '"]');
      if (radio && !radio.checked) radio.checked = true;
    }
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("[data-theme-select]") && NAME.test(el.value)) {
      document.documentElement.setAttribute("data-theme", el.value);
      store(THEME_KEY, el.value);
    } else if (el.matches('input[name="story-tab"]') && NAME.test(el.value)) {
      var url = new URL(window.location.href);
      url.searchParams.set("tab", el.value);
      window.history.replaceState(window.history.state, "", url);
    }
  });

  document.addEventListener("click", function (event) {
    var viewport = event.target.closest("[data-viewport-button]");
    if (viewport && NAME.test(viewport.value)) {
      store(VIEWPORT_KEY, viewport.value);
      syncControls();
      return;
    }
    var copy = event.target.closest("[data-copy-target]");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy-target"));
      if (!source) return;
      var text = source.textContent;
      var done = function () {
        copy.setAttribute("data-copied", "true");
        copy.querySelector("[data-copy-label]").textContent = "Copied";
        window.setTimeout(function () {
          copy.removeAttribute("data-copied");
          copy.querySelector("[data-copy-label]").textContent = "Copy";
        }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        try {
          document.execCommand("copy");
          done();
        } catch (e) {
          /* copying is not allowed here */
        }
        area.remove();
      }
    }
  });

  // Sidebar search: hides stories, components and groups that do not match, as you type.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches("[data-story-filter]")) return;
    var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var tree = document.getElementById(input.getAttribute("data-story-filter"));
    if (!tree) return;
    var shown = 0;
    tree.querySelectorAll("[data-search]").forEach(function (item) {
      var text = item.getAttribute("data-search");
      var match = terms.every(function (t) { return text.indexOf(t) !== -1; });
      item.hidden = !match;
      if (match) shown += 1;
    });
    tree.querySelectorAll("[data-component]").forEach(function (component) {
      var any = component.querySelector("[data-search]:not([hidden])");
      component.hidden = !any;
      var details = component.querySelector("details");
      if (details && terms.length) details.open = Boolean(any);
    });
    tree.querySelectorAll("[data-group]").forEach(function (group) {
      group.hidden = !group.querySelector("[data-component]:not([hidden])");
    });
    var empty = document.getElementById("story-filter-empty");
    if (empty) empty.hidden = shown !== 0;
  });

  document.addEventListener("DOMContentLoaded", function () {
    syncControls();
    var active = document.querySelector('#story-tree a[aria-current="page"]');
    if (active) active.scrollIntoView({block: "nearest"});
  });
  document.addEventListener("htmx:afterSettle", syncControls);
  window.addEventListener("popstate", syncControls);

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
  // this script runs in <head>, before the marker is parsed
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watchForReload);
  else watchForReload();
})();
