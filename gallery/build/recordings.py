"""Recorded htmx answers for the static export: an interactive story still answers from file://.

At export time each story's main actions (the save of a key form, a card's Delete, the create of
an issued key, an issued key's Roll (its dialog, then the dialog's roll), Revoke and Delete) are
sent, in-process, to the real gallery app with a fresh sandbox holding the
story's seed, exactly as the canvas would send them (the form's fields with a demo key or name
typed in and a first scope picked, the sandbox and CSRF headers). The answers (status, the
headers htmx acts on, body) are written into the canvas; canvas.js replays one when the same
method and path are requested. Answers are made deterministic (CSRF token, toast ids, new ids
normalised, a time the real clock made while recording fixed to `FIXED_TIME`, the sandbox
issuer's times kept to the second: its clock is frozen at DEMO_NOW, so a `<time>` still says
the moment its words count from; a seeded key's id turned back into the story's id) and hold
masked keys only: the one reveal after a create or a roll is masked too (`ISSUED_MASK`), so a
published export never carries anything shaped like a key. Not recorded: Test (it reaches a
provider) and an issued key's actions the story's sandbox has no seeded key for; those keep the
canvas's "needs the live gallery" notice.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

from starlette.testclient import TestClient

from byok.components import ISSUED_BASE_URL
from byok.core.providers import BUILTIN_PROVIDERS

from ..live.playground import KEYS_URL
from ..live.sandbox import HEADER, SANDBOX_URL
from ..model.registry import Registry, Story

__all__ = ["ELEMENT_ID", "Action", "Recorder", "Recording", "read_recordings", "recordings_json"]

ELEMENT_ID = "gallery-recordings"  # the canvas's <script type="application/json"> holding them
SECRET = "byok-gallery-export-recordings-" + "0" * 16  # the recording app's fixed secret
KEPT_HEADERS = re.compile(r"^(hx-|byok-|content-type$)", re.IGNORECASE)  # what htmx acts on
VERBS = ("post", "put", "patch", "delete")  # the htmx verbs that change something
FIXED_TIME = "2026-01-01T09:00:00+00:00"  # a time the real clock made, in an answer
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")
_TOAST = re.compile(r"byok-toast-[0-9a-f]{6,}")
_ISSUED = re.compile(r"demo_test_[A-Za-z0-9]+")  # a key the sandbox issuer made (and its prefix)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_STORY_ID = "0b5e7f2a-"  # the issued-key stories' own ids (kept)
ISSUED_MASK = "demo_test_recorded••••••••"  # the one reveal, masked in a recording
_ISSUED_KEY = re.compile(re.escape(ISSUED_BASE_URL) + r"/([0-9a-f-]{36})(?:/[a-z]+)?")  # one key's
_PIECE = re.compile(r"(?=<[a-z])")  # where an answer's body is cut into stored pieces
_ROLL_DIALOG = re.compile(re.escape(ISSUED_BASE_URL) + r"/[0-9a-f-]{36}/roll")  # its Roll button


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
        self._choices: dict[str, str] = {}  # an unchecked group's first value (a typical pick)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = []
            self._choices = {}
        if self._form is not None and a.get("name") and "disabled" not in a:
            if tag == "input" and a.get("type", "text") not in ("submit", "button", "file"):
                if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                    self._form.append((a["name"], a.get("value", "")))
                elif a["name"] not in self._choices:
                    self._choices[a["name"]] = a.get("value", "on")  # its first box
            elif tag == "textarea":
                self._form.append((a["name"], ""))
            elif tag == "select":
                self._select = a["name"]
        if tag == "option" and self._select is not None and self._form is not None:
            picked = (self._select, a.get("value", ""))
            if self._form and self._form[-1][0] == self._select:
                if "selected" in a:
                    self._form[-1] = picked  # the selected option wins over the first
            else:
                self._form.append(picked)
        for verb in VERBS:
            if f"hx-{verb}" in a:
                self.found.append((verb.upper(), a[f"hx-{verb}"], self._form))
        if _ROLL_DIALOG.fullmatch(a.get("hx-get", "").split("?")[0]):  # loads a dialog
            self.found.append(("GET", a["hx-get"], None))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            picked = {name for name, _ in self._form}
            self._form.extend((k, v) for k, v in self._choices.items() if k not in picked)
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
        stored = (bare == KEYS_URL or bare.startswith(KEYS_URL + "/")) and not bare.endswith(
            "/test"
        )
        issued = (method, bare) == ("POST", ISSUED_BASE_URL) or _ISSUED_KEY.fullmatch(bare)
        if not (stored or issued):  # save/delete, create; roll (dialog, roll), revoke, delete
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
        elif name == "name" and not value:
            value = "Demo key"  # an issued key's name
        elif name == "base_url" and not value and provider == "azure":
            value = "https://demo.openai.azure.com"
        out.append((name, value))
    return tuple(out)


class Recorder:
    """Drives the real gallery app in-process and records its answers to the stories' actions."""

    def __init__(self) -> None:
        from ..app import create_app

        self._dir = tempfile.TemporaryDirectory(prefix="byok-gallery-record-")
        db = Path(self._dir.name) / "record.db"
        self.app = create_app(db_url=f"sqlite:///{db}", secret_key=SECRET)
        self.client = TestClient(self.app)
        self.since = datetime.now(UTC)  # times from here on are the real clock's, not the demo's

    def story(
        self,
        story: Story,  # the story whose actions are recorded
    ) -> list[Recording]:
        """The answers to the story's actions, each from a fresh sandbox (the story's seed); a
        dialog's own actions (the Roll dialog's roll) after it."""
        queue = actions(story.render())
        seen = {(a.method, a.path) for a in queue}
        out = []
        while queue:
            action = queue.pop(0)
            answer = self._answer(story, action)
            if answer is None:
                continue
            out.append(answer)
            if action.method == "GET":  # a dialog: what it sends is the next click
                more = [a for a in actions(answer.body) if (a.method, a.path) not in seen]
                seen.update((a.method, a.path) for a in more)
                queue += more
        return out

    def _answer(self, story: Story, action: Action) -> Recording | None:
        """The answer to one action from a fresh sandbox; None when the app has no such story
        (a registry other than the gallery's: its canvas keeps the notice)."""
        canvas = self.client.get(f"/story/{story.slug}/canvas").text
        token = re.search(r'data-sandbox="([0-9a-f]+)"', canvas)
        csrf = re.search(r"hx-headers='(\{[^']*\})'", canvas)
        if not (token and csrf):
            return None
        seeded = self.app.state.sandboxes.seeded(token.group(1))  # story's key id -> issued id
        named = _ISSUED_KEY.fullmatch(action.path.split("?")[0])
        if named and named.group(1) not in seeded:  # not in its sandbox: it keeps the notice
            return None
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
        stands = {issued: story_id for story_id, issued in seeded.items()}
        kept = tuple(
            sorted(
                (k, self._clean(v, secrets_, stands, self.since))
                for k, v in answer.headers.items()
                if KEPT_HEADERS.match(k)
            )
        )
        body = self._clean(answer.text, secrets_, stands, self.since)
        recording = Recording(action.method, action.path, answer.status_code, kept, body)
        for name, value in action.fields:
            if name == "api_key" and value and value in json.dumps(recording):
                raise RuntimeError(f"{story.slug}: a recording holds the plaintext key")
        return recording

    @staticmethod
    def _clean(
        text: str,  # an answer's body or header
        secrets_: Iterable[str],  # the sandbox token and CSRF token (replaced)
        stands: Mapping[str, str],  # a seeded key's id -> the story's id it stands for
        since: datetime,  # when recording began: a later time is the real clock's
    ) -> str:
        """The answer made deterministic and free of secrets (see the module's docstring)."""
        for secret in secrets_:
            text = text.replace(secret, "recorded")
        for issued, story_id in stands.items():
            text = text.replace(issued, story_id)
        text = text.replace(SANDBOX_URL + "/", "/")
        text = _TIME.sub(lambda m: _stamp(m.group(0), since), text)
        ids: dict[str, str] = {}
        text = _TOAST.sub(lambda m: ids.setdefault(m.group(0), f"byok-toast-r{len(ids) + 1}"), text)
        text = _ISSUED.sub(
            lambda m: ISSUED_MASK if len(m.group(0)) > 20 else "demo_test_rec0rded", text
        )
        uuids: dict[str, str] = {}
        return _UUID.sub(
            lambda m: (
                m.group(0)
                if m.group(0).startswith(_STORY_ID) or m.group(0) in stands.values()
                else uuids.setdefault(m.group(0), f"00000000-0000-4000-8000-{len(uuids) + 1:012d}")
            ),
            text,
        )

    def close(self) -> None:
        """Close the sandboxes and remove the recording database."""
        self.client.close()
        self.app.state.sandboxes.close()
        self._dir.cleanup()


def _stamp(
    iso: str,  # a timestamp in an answer
    since: datetime,  # when recording began
) -> str:
    """FIXED_TIME for a time the real clock made (a stored key's "Added just now"); a demo-clock
    time (the sandbox issuer's) kept, to the second (a seeded key's µs that order keys of one age)."""
    at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if (at if at.tzinfo else at.replace(tzinfo=UTC)) >= since:
        return FIXED_TIME
    return (at + timedelta(microseconds=500_000)).replace(microsecond=0).isoformat()


def recordings_json(
    recordings: list[Recording],  # a story's recordings
) -> str:
    """The recordings as JSON safe inside a <script> (sorted keys: deterministic). Their bodies
    repeat (each Revoke answers the whole table): cut before each tag, each distinct piece is
    stored once in `pieces` and a body is the list of its pieces' places there."""
    pieces: dict[str, int] = {}
    answers = [
        {**r._asdict(), "body": [pieces.setdefault(p, len(pieces)) for p in _PIECE.split(r.body)]}
        for r in recordings
    ]
    data = {"answers": answers, "pieces": list(pieces)}
    return json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")


def read_recordings(
    text: str,  # what recordings_json wrote
) -> list[Recording]:
    """The recordings back from their JSON (what canvas.js does to replay one)."""
    data = json.loads(text)
    return [
        Recording(
            a["method"],
            a["path"],
            a["status"],
            tuple((name, value) for name, value in a["headers"]),
            "".join(data["pieces"][n] for n in a["body"]),
        )
        for a in data["answers"]
    ]


def record_all(
    reg: Registry,  # the stories
) -> dict[str, list[Recording]]:
    """Every story's recordings (slug -> recordings; stories without actions left out)."""
    recorder = Recorder()
    try:
        return {s.slug: r for s in reg if (r := recorder.story(s))}
    finally:
        recorder.close()
