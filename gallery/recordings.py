"""Recorded htmx answers for the static export: an interactive story still answers from file://.

At export time each story's key-route actions (the save of a key form, a card's Delete; see
`SANDBOXED`) are sent, in-process, to the real gallery app with a fresh sandbox holding the
story's seed, exactly as the canvas would send them (the form's fields, a demo key typed in, the
sandbox and CSRF headers). The answers (status, the headers htmx acts on, body) are written into
the canvas; canvas.js replays one when the same method and path are requested. Answers are made
deterministic (CSRF token, times, toast ids normalised) and never hold the demo plaintext.
Actions that reach a provider (Test) and the issued-key routes are not recorded (no recording:
the canvas keeps its "needs the live gallery" notice).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

from starlette.testclient import TestClient

from byok.core.providers import BUILTIN_PROVIDERS

from .playground import KEYS_URL
from .registry import Registry, Story
from .sandbox import HEADER, SANDBOX_URL

__all__ = ["ELEMENT_ID", "Action", "Recorder", "Recording", "recordings_json"]

ELEMENT_ID = "gallery-recordings"  # the canvas's <script type="application/json"> holding them
SECRET = "byok-gallery-export-recordings-" + "0" * 16  # the recording app's fixed secret
KEPT_HEADERS = re.compile(r"^(hx-|byok-|content-type$)", re.IGNORECASE)  # what htmx acts on
VERBS = ("post", "put", "patch", "delete")  # the htmx verbs that change something
FIXED_TIME = "2026-01-01T09:00:00+00:00"  # every timestamp in an answer (deterministic export)
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")
_TOAST = re.compile(r"byok-toast-[0-9a-f]{6,}")


class Action(NamedTuple):
    """An htmx request a story's markup can send."""

    method: str  # upper-case verb
    path: str  # the path as written in the component (/api/keys/openai)
    fields: tuple[tuple[str, str], ...]  # the form fields htmx would send


class Recording(NamedTuple):
    """The live gallery's answer to one action."""

    method: str  # upper-case verb
    path: str  # the path as written in the component
    status: int  # the answer's status
    headers: tuple[tuple[str, str], ...]  # the headers htmx acts on (HX-*, BYOK-*, type)
    body: str  # the answer's HTML, sandbox paths turned back into the component's


class _Actions(HTMLParser):
    """Collects the hx-post/put/patch/delete elements of a story's HTML and their forms' fields."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, list[tuple[str, str]] | None]] = []
        self._form: list[tuple[str, str]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = []
        if self._form is not None and a.get("name") and "disabled" not in a:
            if tag == "input" and a.get("type", "text") not in ("submit", "button", "file"):
                if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                    self._form.append((a["name"], a.get("value", "")))
            elif tag == "textarea":
                self._form.append((a["name"], ""))
            elif tag == "select":
                self._select = a["name"]
        if tag == "option" and self._select is not None and self._form is not None:
            self._form.append((self._select, a.get("value", "")))
            self._select = None  # the first option (a story's default is its first)
        for verb in VERBS:
            if f"hx-{verb}" in a:
                self.found.append((verb.upper(), a[f"hx-{verb}"], self._form))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def actions(
    html: str,  # a story's HTML
) -> list[Action]:
    """The key-route actions a story's markup can send (Test, which reaches a provider, left out)."""
    parser = _Actions()
    parser.feed(html)
    out: dict[tuple[str, str], Action] = {}
    for method, path, form in parser.found:
        bare = path.split("?")[0]
        if not (bare == KEYS_URL or bare.startswith(KEYS_URL + "/")) or bare.endswith("/test"):
            continue
        fields = tuple(form or ())
        out.setdefault((method, path), Action(method, path, _typed(path, fields)))
    return list(out.values())


def demo_key(
    provider: str,  # the provider the form saves a key for
) -> str:
    """A well-formed made-up key for the provider (what a person would type)."""
    info = BUILTIN_PROVIDERS.get(provider)
    prefix = (info.key_prefix if info else None) or ""
    return prefix + "DemoExportKey" + "Q7x2" * 8


def _typed(path: str, fields: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The form's fields with a demo key (and a base URL where one is needed) typed in."""
    names = dict(fields)
    provider = names.get("provider") or path.split("?")[0].removeprefix(KEYS_URL).strip("/")
    provider = provider.split("/")[0]
    out = []
    for name, value in fields:
        if name == "api_key" and not value:
            value = demo_key(provider)
        elif name == "base_url" and not value and provider == "azure":
            value = "https://demo.openai.azure.com"
        out.append((name, value))
    return tuple(out)


class Recorder:
    """Drives the real gallery app in-process and records its answers to the stories' actions."""

    def __init__(self) -> None:
        from .app import create_app

        self._dir = tempfile.TemporaryDirectory(prefix="byok-gallery-record-")
        db = Path(self._dir.name) / "record.db"
        self.app = create_app(db_url=f"sqlite:///{db}", secret_key=SECRET)
        self.client = TestClient(self.app)

    def story(
        self,
        story: Story,  # the story whose actions are recorded
    ) -> list[Recording]:
        """The answers to the story's actions, each from a fresh sandbox (the story's seed)."""
        return [self._answer(story, a) for a in actions(story.render())]

    def _answer(self, story: Story, action: Action) -> Recording:
        canvas = self.client.get(f"/story/{story.slug}/canvas").text
        token = re.search(r'data-sandbox="([0-9a-f]+)"', canvas)
        csrf = re.search(r"hx-headers='(\{[^']*\})'", canvas)
        assert token and csrf, story.slug
        headers = {HEADER: token.group(1), "HX-Request": "true", **json.loads(csrf.group(1))}
        if action.fields:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer = self.client.request(
            action.method,
            SANDBOX_URL + action.path,
            content=urlencode(action.fields).encode() if action.fields else None,
            headers=headers,
        )
        secrets_ = [token.group(1), *json.loads(csrf.group(1)).values()]
        kept = tuple(
            sorted(
                (k, self._clean(v, secrets_))
                for k, v in answer.headers.items()
                if KEPT_HEADERS.match(k)
            )
        )
        recording = Recording(
            action.method, action.path, answer.status_code, kept, self._clean(answer.text, secrets_)
        )
        for name, value in action.fields:
            if name == "api_key" and value and value in json.dumps(recording):
                raise RuntimeError(f"{story.slug}: a recording holds the plaintext key")
        return recording

    @staticmethod
    def _clean(text: str, secrets_: Iterable[str]) -> str:
        for secret in secrets_:
            text = text.replace(secret, "recorded")
        text = text.replace(SANDBOX_URL + "/", "/")
        text = _TIME.sub(FIXED_TIME, text)
        ids: dict[str, str] = {}
        return _TOAST.sub(lambda m: ids.setdefault(m.group(0), f"byok-toast-r{len(ids) + 1}"), text)

    def close(self) -> None:
        """Close the sandboxes and remove the recording database."""
        self.client.close()
        self.app.state.sandboxes.close()
        self._dir.cleanup()


def recordings_json(
    recordings: list[Recording],  # a story's recordings
) -> str:
    """The recordings as JSON safe inside a <script> (sorted keys: deterministic)."""
    data = [r._asdict() for r in recordings]
    return json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")


def record_all(
    reg: Registry,  # the stories
) -> dict[str, list[Recording]]:
    """Every story's recordings (slug -> recordings; stories without actions left out)."""
    recorder = Recorder()
    try:
        return {s.slug: r for s in reg if (r := recorder.story(s))}
    finally:
        recorder.close()
