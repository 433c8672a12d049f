"""Things built from the stories for use elsewhere: the static export (with recorded answers it
replays), composition into a Storybook (`index.json`, `iframe.html`), and the gallery's stylesheet."""
