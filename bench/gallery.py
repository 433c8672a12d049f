"""Gallery rows (information only: the reference has no gallery): the index page with every
story, and every story rendered once. The issue's bar is absolute: index render < 50 ms."""

from __future__ import annotations

from bench import Row


def rows() -> list[Row]:
    """The gallery rows; `python -m bench` prints their medians (bar: none, read the µs)."""
    from fastcore.xml import to_xml

    from gallery.app import LIVE, document, index_page
    from gallery.model.registry import registry

    stories = registry().stories

    def index() -> str:
        return to_xml(document(LIVE, "Components", index_page(LIVE)))

    def every_story() -> list[str]:
        return [s.render() for s in stories]

    return [
        Row("gallery: index page, all stories (bar < 50,000 µs)", index, None, float("inf")),
        Row(f"gallery: render all {len(stories)} stories", every_story, None, float("inf")),
    ]
