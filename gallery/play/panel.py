"""The story page's Interactions panel: the story's play, one row per step, a Run button; gallery.js
sends the steps to play.js in the canvas and fills each row in as it runs (status, duration, the
htmx requests, a failure's error and a snapshot of the canvas at that moment). A story without a
play gets a short note saying how to add one.
"""

from __future__ import annotations

import json

from fastcore.xml import FT, Safe
from fasthtml.common import Button, Code, Div, Li, Ol, P, Pre, Script, Span

from ..model.registry import Story
from ..ui.highlight import highlight_python

__all__ = ["HOW_TO", "interactions_panel", "steps_json"]

HOW_TO = """from byok_gallery import Story, play

Story(
    KeyInputForm,
    "OpenAI",
    {"provider": "openai"},
    play=[
        play.Fill(play.Role("textbox", name="OpenAI API key"), "sk-proj-demo-0123456789abcdef"),
        play.Click(play.Role("button", name="Save key")),
        play.WaitRequest("POST", "/api/keys/openai", status=200),
        play.ExpectText("#toast-container", "saved"),
    ],
)
"""


def steps_json(
    story: Story,  # a story with a play
) -> str:
    """The play's steps as JSON for a <script type="application/json"> ("</" escaped)."""
    return json.dumps([s.to_json() for s in story.play]).replace("</", "<\\/")


def interactions_panel(
    story: Story,  # the story shown
) -> FT:
    """The Interactions tab: the play's steps and a Run button, or how to add a play."""
    if not story.play:
        return Div(
            P(
                "No play for this story. A play is a short list of steps declared beside the "
                "story (click, fill, select, press, wait for a request or a swap, expect text, "
                "visible, hidden, count, attribute); this panel runs it against the story's "
                "sandbox and ",
                Code("byok_gallery.testing.assert_play_passes"),
                " runs the same steps in pytest:",
                cls="text-sm",
            ),
            Pre(highlight_python(HOW_TO), tabindex="0", cls="code-block"),
            id="interactions-panel",
            data_play="none",
            cls="flex flex-col gap-3",
        )
    rows = [
        Li(
            Span("pending", cls="badge badge-sm badge-ghost", data_play_status=True),
            Span(f"{i}.", cls="font-mono text-xs"),
            Span(step.label(), cls="font-mono text-sm"),
            Span("", cls="text-base-content/80 text-xs", data_play_meta=True),
            Div(cls="flex w-full flex-col gap-2", data_play_detail=True, hidden=True),
            data_play_step=str(i - 1),
            cls="bg-base-200 rounded-box flex flex-wrap items-baseline gap-2 p-3",
        )
        for i, step in enumerate(story.play, 1)
    ]
    return Div(
        Div(
            P(
                f"{len(story.play)} steps, run in the canvas against this story's sandbox (fresh "
                "for each run); the same steps run in pytest with ",
                Code("assert_play_passes"),
                ".",
                cls="text-sm",
            ),
            Button("Run", type="button", data_play_run=True, cls="btn btn-sm btn-primary"),
            cls="flex items-start justify-between gap-2",
        ),
        P("Not run yet.", id="play-summary", role="status", cls="text-sm font-medium"),
        Ol(*rows, id="play-steps", cls="flex flex-col gap-2", aria_label="Play steps"),
        Script(Safe(steps_json(story)), type="application/json", id="play-json"),
        id="interactions-panel",
        data_play="steps",
    )
