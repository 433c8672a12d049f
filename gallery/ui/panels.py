"""The story page's panels under the canvas: Controls (gallery.controls), Actions, Accessibility,
Code, HTML and Docs. Actions and Accessibility are filled by gallery.js from what canvas.js reports
(textContent only: nothing the canvas sends is parsed as HTML).
"""

from __future__ import annotations

import re
from html import escape

from fastcore.xml import FT, Safe
from fasthtml.common import (
    Button,
    Code,
    Details,
    Div,
    Ol,
    P,
    Pre,
    Span,
    Summary,
    Table,
    Tbody,
    Td,
    Textarea,
    Th,
    Thead,
    Tr,
)

from ..model.introspect import params, signature_text
from ..model.registry import Story
from ..model.runnable import runnable_app
from ..model.snippets import public_module
from .highlight import highlight_html, highlight_python
from .pretty import pretty_html

__all__ = [
    "a11y_panel",
    "actions_panel",
    "code_panel",
    "docs_panel",
    "html_panel",
    "rich_text",
]

_TICKS = re.compile(r"`([^`]+)`")


def rich_text(
    text: str,  # a description that may hold `code` in backticks
) -> list[FT | str]:
    """The text with `backticked` parts as <code> (no raw backticks on the page)."""
    parts: list[FT | str] = []
    for i, piece in enumerate(_TICKS.split(text)):
        if piece:
            parts.append(Code(piece) if i % 2 else piece)
    return parts


def copy_button(
    target: str,  # id of the element whose text (or value) is copied
    what: str,  # what is copied, for the label ("the Python code")
    label: str = "Copy",  # the visible text
) -> FT:
    """A button copying an element's text to the clipboard."""
    return Button(
        Span(label, data_copy_label=label),
        type="button",
        data_copy_target=target,
        aria_label=f"Copy {what}",
        cls="btn btn-sm btn-ghost",
    )


def code_panel(
    story: Story,  # the story (with the arguments shown)
    oob: bool = False,  # marked for an out-of-band swap (the Controls answer)
) -> FT:
    """The Code tab: the snippet, and the story as a complete runnable FastHTML app."""
    return Div(
        Div(
            P("The Python that renders this story:", cls="text-sm"),
            copy_button("code-source", "the Python code"),
            cls="flex items-center justify-between gap-2",
        ),
        Pre(highlight_python(story.snippet()), id="code-source", tabindex="0", cls="code-block"),
        Details(
            Summary(
                "Runnable app: a complete FastHTML file (asset set-up, a route, the snippet)",
                cls="cursor-pointer text-sm font-medium",
            ),
            Div(
                copy_button("app-source", "the runnable app", "Copy as a runnable app"),
                cls="flex justify-end",
            ),
            Pre(
                highlight_python(runnable_app(story)),
                id="app-source",
                tabindex="0",
                cls="code-block",
            ),
            cls="mt-3 flex flex-col gap-2",
        ),
        id="code-panel",
        hx_swap_oob="true" if oob else None,
    )


def html_panel(
    html: str,  # the story's exact HTML
    oob: bool = False,  # marked for an out-of-band swap (the Controls answer)
) -> FT:
    """The HTML tab: the markup indented for reading; the copy button copies the exact HTML."""
    return Div(
        Div(
            P(
                f"Indented for reading; Copy copies the exact HTML ({len(html):,} characters).",
                cls="text-sm",
            ),
            copy_button("html-exact", "the exact HTML"),
            cls="flex items-center justify-between gap-2",
        ),
        Pre(highlight_html(pretty_html(html)), id="html-source", tabindex="0", cls="code-block"),
        Textarea(  # the exact HTML (escaped here: a rendered story is a Safe string)
            Safe(escape(html, quote=False)),
            id="html-exact",
            hidden=True,
            readonly=True,
            aria_hidden="true",
        ),
        id="html-panel",
        hx_swap_oob="true" if oob else None,
    )


def param_table(story: Story) -> FT:
    """The parameter table: name, type, default, description (from the inline comments)."""
    rows = [
        Tr(
            Td(Code(p.name)),
            Td(Code(p.type_text) if p.type_text else "—"),
            Td(Code(p.default_text) if not p.required else Span("required", cls="badge badge-sm")),
            Td(*rich_text(p.comment) if p.comment else "—"),
        )
        for p in params(story.component)
    ]
    return Div(
        Table(
            Thead(Tr(Th("Parameter"), Th("Type"), Th("Default"), Th("Description"))),
            Tbody(*rows),
            cls="table table-sm",
        ),
        cls="overflow-x-auto",
    )


def docs_panel(story: Story) -> FT:
    """The Docs tab: import, signature, docstring and the parameter table."""
    module = story.component.__module__
    return Div(
        P(
            "from ",
            Code(public_module(story.component)),
            " import ",
            Code(story.component_name),
            Span(f" (defined in {module})", cls="text-base-content/80"),
            cls="text-sm",
        ),
        Pre(highlight_python(signature_text(story.component)), tabindex="0", cls="code-block"),
        Div(
            *[
                P(*rich_text(line))
                for line in (story.component.__doc__ or "").strip().split("\n\n")
            ],
            cls="prose max-w-none",
        ),
        param_table(story),
        cls="flex flex-col gap-4",
    )


def actions_panel(
    live: bool,  # False in the static export (no server to send requests to)
) -> FT:
    """The Actions tab: every htmx request the canvas sends, filled in by gallery.js."""
    intro = (
        "Every htmx request the canvas sends: method, URL, headers, form fields (key values "
        "masked), status, response headers, swapped elements (out of band too) and timing. Story "
        "forms talk to a sandbox of their own, emptied on each reload; never the playground."
        if live
        else "Actions need the live gallery (run uv run gallery): this static copy sends no "
        "requests."
    )
    return Div(
        Div(
            P(intro, cls="text-sm"),
            Button("Clear", type="button", data_actions_clear=True, cls="btn btn-sm btn-ghost"),
            cls="flex items-start justify-between gap-2",
        ),
        P("No request yet.", id="actions-empty", cls="text-base-content/80 text-sm"),
        Ol(id="actions-log", cls="flex flex-col gap-2", aria_label="htmx requests, newest first"),
        id="actions-panel",
    )


def a11y_panel() -> FT:
    """The Accessibility tab: axe-core run on the canvas, filled in by gallery.js."""
    return Div(
        Div(
            P(
                "axe-core checks the canvas (WCAG 2.2 A/AA rules) when this tab is open and after "
                "each change. Select a node to highlight it in the canvas.",
                cls="text-sm",
            ),
            Button("Run checks", type="button", data_a11y_run=True, cls="btn btn-sm"),
            cls="flex items-start justify-between gap-2",
        ),
        P("Not run yet.", id="a11y-summary", role="status", cls="text-sm font-medium"),
        Ol(id="a11y-list", cls="flex flex-col gap-2", aria_label="Accessibility violations"),
        id="a11y-panel",
    )
