"""How gallery pages link to each other: the live app (absolute URLs, htmx) or a static export
(relative .html links, no server). Every page is built from a `Site`, so both share their markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

__all__ = ["LIVE", "Site"]


@dataclass(frozen=True)
class Site:
    """The URLs of the gallery's pages and assets, live or exported."""

    static: bool = False  # True for the static export (relative .html links, no server)
    root: str = "/"  # prefix of every link: "/" live; "" or "../" in an export

    def at_depth(
        self,
        depth: int,  # how many folders below the export's root the page sits
    ) -> Site:
        """The same site, seen from a page `depth` folders deep (exports only)."""
        return Site(self.static, "../" * depth) if self.static else self

    @property
    def home(self) -> str:
        """The index page."""
        return f"{self.root}index.html" if self.static else self.root

    @property
    def assets(self) -> str:
        """URL prefix of the locally served assets."""
        return f"{self.root}assets/"

    @property
    def index_json(self) -> str:
        """The story index (Storybook-like)."""
        return f"{self.root}index.json"

    @property
    def playground(self) -> str | None:
        """The playground (live only: it needs a server)."""
        return None if self.static else f"{self.root}playground"

    def story(
        self,
        slug: str,  # story slug
        query: list[tuple[str, str]] | None = None,  # tab and arguments (live only)
    ) -> str:
        """A story's page."""
        if self.static:
            return f"{self.root}story/{slug}.html"
        return f"{self.root}story/{slug}" + (f"?{urlencode(query)}" if query else "")

    def canvas(
        self,
        slug: str,  # story slug
        query: list[tuple[str, str]] | None = None,  # arguments (live only)
    ) -> str:
        """A story's canvas: the component alone on a chrome-free page (the iframe's source)."""
        if self.static:
            return f"{self.root}canvas/{slug}.html"
        return f"{self.root}story/{slug}/canvas" + (f"?{urlencode(query)}" if query else "")

    def panels(
        self,
        slug: str,  # story slug
    ) -> str | None:
        """Where the Controls form sends its values (None in an export: no server)."""
        return None if self.static else f"{self.root}story/{slug}/panels"

    def panel(
        self,
        slug: str,  # story slug
        name: str,  # the tab, e.g. "code"
        query: list[tuple[str, str]] | None = None,  # arguments (live only)
    ) -> str | None:
        """One tab's panel of a story page, loaded when the tab is opened (None in an export)."""
        if self.static:
            return None
        path = f"{self.root}story/{slug}/panel/{name}"
        return path + (f"?{urlencode(query)}" if query else "")

    def component(
        self,
        slug: str,  # component slug
    ) -> str:
        """A component's docs page (description, parameters, every story)."""
        if self.static:
            return f"{self.root}component/{slug}.html"
        return f"{self.root}component/{slug}"

    def guide(
        self,
        slug: str,  # guide slug (its file name)
    ) -> str:
        """A guide page (Markdown beside the stories)."""
        if self.static:
            return f"{self.root}guide/{slug}.html"
        return f"{self.root}guide/{slug}"

    def boost(self) -> dict[str, str]:
        """Attributes that make the links inside load their page's #main in place, pushing the
        URL (live only). gallery.js follows them with one listener and `htmx.ajax`, reading the
        htmx attributes here: `hx-boost` on the sidebar had htmx process 200 links on every cold
        load (20-30 ms of bench "cold load")."""
        if self.static:
            return {}
        return {
            "data_boost": "true",
            "hx_target": "#main",
            "hx_swap": "innerHTML show:window:top",
            "hx_push_url": "true",
        }


LIVE = Site()
