"""Plays: interaction tests declared in Python beside a story, run by one runner (play.js) in the
gallery's Interactions panel and in pytest (`byok_gallery.testing.assert_play_passes`).

```python
from byok_gallery import Story, play

Story(
    KeyInputForm,
    "OpenAI",
    {"provider": "openai"},
    play=[
        play.Fill(play.Role("textbox", name="OpenAI API key"), "sk-proj-demo-key-1234567890"),
        play.Click(play.Role("button", name="Save")),
        play.WaitRequest("POST", "/api/keys/openai", status=200),
        play.ExpectText("#toast-container", "saved"),
    ],
)
```

A target is a CSS selector (a str), `Role(role, name=...)` or `Text(...)`. Each step starts once
htmx is idle and waits up to `timeout=` seconds (default 5) for its target or condition; the
story's live sandbox answers its requests, fresh for every run.
"""

from __future__ import annotations

from .steps import (
    STEP_TYPES,
    Click,
    ExpectAttribute,
    ExpectCount,
    ExpectHidden,
    ExpectText,
    ExpectVisible,
    Fill,
    Press,
    Select,
    Step,
    WaitRequest,
    WaitSwap,
    check_play,
)
from .targets import Css, Role, Target, Text

__all__ = [
    "STEP_TYPES",
    "Click",
    "Css",
    "ExpectAttribute",
    "ExpectCount",
    "ExpectHidden",
    "ExpectText",
    "ExpectVisible",
    "Fill",
    "Press",
    "Role",
    "Select",
    "Step",
    "Target",
    "Text",
    "WaitRequest",
    "WaitSwap",
    "check_play",
]
