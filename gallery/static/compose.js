// A story shown by another Storybook's manager (a composed ref): tell the manager the story is
// set, as Storybook's own preview does, so it takes its loading spinner away. The message is the
// channel's plain-object form; refId comes from the manager's iframe URL.
(function () {
  var query = new URLSearchParams(location.search);
  var refId = query.get("refId");
  if (!refId || window.parent === window) return;
  var story = { storyId: query.get("id") || "", viewMode: query.get("viewMode") || "story" };
  function say(type, args) {
    window.parent.postMessage(
      { key: "storybook-channel", refId: refId, event: { type: type, args: args, from: refId } },
      "*"
    );
  }
  say("currentStoryWasSet", [story]);
  window.addEventListener("DOMContentLoaded", function () {
    say("storyRendered", [story.storyId]);
  });
})();
