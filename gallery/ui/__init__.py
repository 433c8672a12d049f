"""The gallery's pages as HTML: the shell (sidebar, navbar, themes), story, component, index and
guide pages, the panels, the canvas document, code highlighting, and the front-end assets they
link. Plain functions of the registry and a `Site` (how links are written), shared by the live app
and the static export."""
