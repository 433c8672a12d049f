"""Guides: Markdown pages written beside the stories, with live stories embedded in the text.

A story package may hold a `guides/` folder of `*.md` files. Each is a page of the gallery
(`/guide/<file name>`, listed first in the sidebar and found by its search), its title the first
`# heading`. `{{ story "alert--error-soft" }}` on a line of its own embeds that story's live
canvas (the same preview as a component's docs page) with a link to the story. The files are read
once per registry load (`find_guides`): a request never reads them, and the hot reload, which
watches the guides too, reads them again with the stories. A guide naming a story that does not
exist shows a warning in its place.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import markdown
from fastcore.xml import FT, Safe, to_xml
from fasthtml.common import A, Article, Div, P

from ..model.registry import Registry, registry, slugify, story_packages
from .pages import _preview
from .site import Site

__all__ = ["GUIDES_FOLDER", "Guide", "find_guides", "guide_page", "read_guides"]

GUIDES_FOLDER = "guides"  # inside a story package
EMBED = re.compile(r'^\{\{\s*story\s+"([^"]+)"\s*\}\}\s*$', re.MULTILINE)  # {{ story "id" }}
_HEADING = re.compile(r"^#{1,3}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MARK = "GALLERYSTORYEMBED{}END"  # a placeholder Markdown leaves alone (one word)


@dataclass(frozen=True)
class Guide:
    """One Markdown page of a story package's guides/ folder."""

    slug: str  # its URL name, from the file name
    title: str  # its first heading (else the file name)
    path: Path  # the file
    markdown: str | None = None  # its text as loaded (None: read from `path` when asked)

    @property
    def text(self) -> str:
        """The Markdown: as loaded with the registry (else read from the file)."""
        return self.path.read_text(encoding="utf-8") if self.markdown is None else self.markdown

    @property
    def search(self) -> str:
        """What the sidebar search matches: the title and every heading."""
        return " ".join(["guide", *_HEADING.findall(self.text)]).lower()


def _folders() -> list[Path]:
    """The guides/ folders of the story packages shown."""
    out = []
    for package in story_packages():
        spec = importlib.util.find_spec(package)
        for entry in (spec.submodule_search_locations if spec else None) or ():
            folder = Path(entry) / GUIDES_FOLDER
            if folder.is_dir():
                out.append(folder)
    return out


_loaded: tuple[Registry, tuple[Guide, ...]] | None = None  # the registry they were read with


def find_guides() -> tuple[Guide, ...]:
    """The guides of the story packages shown, read once per registry load (a reload or
    use_stories makes a new registry: they are read again)."""
    global _loaded
    reg = registry()
    if _loaded is None or _loaded[0] is not reg:
        _loaded = (reg, read_guides())
    return _loaded[1]


def read_guides() -> tuple[Guide, ...]:
    """Every guide of the story packages, read now, in file-name order (number them to order
    them)."""
    guides: dict[str, Guide] = {}
    for folder in _folders():
        for path in sorted(folder.glob("*.md")):
            slug = slugify(re.sub(r"^\d+[-_ ]*", "", path.stem)) or slugify(path.stem)
            if slug in guides:
                raise ValueError(f"two guides share the name {slug!r}: {path} and its twin")
            text = path.read_text(encoding="utf-8")
            found = _HEADING.search(text)
            guides[slug] = Guide(slug, found.group(1) if found else path.stem, path, text)
    return tuple(guides.values())


def _embed(site: Site, reg: Registry, story_id: str) -> FT:
    """A story's live canvas with a link to its page, or a warning for an unknown id."""
    story = reg.get(story_id)
    if story is None:
        return Div(f"No story {story_id!r} to show here.", role="alert", cls="alert alert-warning")
    return Div(
        _preview(site, story, f"Canvas: {story.component_name}, {story.name}", 160),
        P(A(f"{story.component_name} · {story.name}", href=site.story(story.slug), cls="link")),
        cls="gallery-guide-embed",
        **site.boost(),
    )


def guide_page(
    site: Site,  # how links are written
    guide: Guide,  # the guide to show
    reg: Registry,  # the stories its embeds name
) -> FT:
    """A guide: its Markdown as HTML, each `{{ story "…" }}` line a live story."""
    ids: list[str] = []

    def mark(found: re.Match[str]) -> str:
        ids.append(found.group(1))
        return "\n" + _MARK.format(len(ids) - 1) + "\n"

    html = markdown.markdown(EMBED.sub(mark, guide.text), extensions=["fenced_code", "tables"])
    for i, story_id in enumerate(ids):
        html = html.replace(f"<p>{_MARK.format(i)}</p>", to_xml(_embed(site, reg, story_id)))
    return Article(Safe(html), id="guide", cls="gallery-guide", data_guide=guide.slug)
