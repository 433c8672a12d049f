"""Issued-key validations over real HTTP on PostgreSQL: uvicorn (one worker, uvloop, httptools)
serving a FastHTML app on 127.0.0.1, loaded by wrk (`apt-get install wrk`) at c = 1 and c = 16.

Each timed call is one wrk run of a fixed number of requests (a Lua script stops wrk at that
count), so the bench's µs per call is the time of those requests and a ratio of two rows is the
inverse of their requests/s ratio: "rps ≥ 0.6×" is "ratio ≤ 1/0.6". The two routes of one app are
timed interleaved: `/open` (no auth) and `/api` (`require_scopes`: a counted `validate_key`, one
compare-and-swap write per request, no rate limit). wrk starts once per call (a few ms, on both
sides alike). The machine's 2 cores are shared by wrk, the server and PostgreSQL.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import Row

__all__ = ["pg_rows"]

SECRET = "bench-wrk-signing-secret-0123456789abcdef"  # the issuer's signing secret
REQUESTS = 160  # requests per timed call, at any concurrency (so the calls compare)
PG_BAR = 1 / 0.6  # c = 16: rps ≥ 0.6× the no-auth route's
RISE_BAR = 1.0  # c = 16 serves more requests/s than c = 1
NO_BAR = float("inf")

APP = """
import os
from fasthtml.common import FastHTML
from byok.issuing import APIKeyClient, require_scopes

client = APIKeyClient(os.environ["BYOK_WRK_DB"], signing_secret=os.environ["BYOK_WRK_SECRET"])
app = FastHTML(default_hdrs=False)


@app.get("/open")
async def open_route() -> str:
    return "ok"


@app.get("/api")
@require_scopes(client)
async def api_route() -> str:
    return "ok"
"""

STOP_AT = """
local done, limit = 0, 0
function init(args) limit = tonumber(args[1]) end
function response(status, headers, body)
  done = done + 1
  if done >= limit then wrk.thread:stop() end
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The app under uvicorn in a subprocess (stopped at `close`)."""

    def __init__(
        self,
        db_url: str,  # the issuer's database
        folder: Path,  # where the app module and the wrk script are written
    ):
        (folder / "wrk_app.py").write_text(APP)
        self.script = folder / "stop_at.lua"
        self.script.write_text(STOP_AT)
        self.port = _free_port()
        env = {**os.environ, "BYOK_WRK_DB": db_url, "BYOK_WRK_SECRET": SECRET}
        serve = [sys.executable, "-m", "uvicorn", "wrk_app:app", "--app-dir", str(folder)]
        serve += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        serve += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
        self.proc = subprocess.Popen([*serve, "--log-level", "error"], env=env)
        deadline = time.monotonic() + 300  # importing the app takes long on a busy machine
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError("the wrk bench server did not start")

    def load(
        self,
        path: str,  # the route
        connections: int,  # wrk -c
        key: str | None = None,  # the issued key sent as X-API-Key
    ) -> Callable[[], int]:
        """One call: wrk sends REQUESTS requests; returns how many it sent."""
        count = REQUESTS
        cmd = [shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", "-d60s"]
        cmd += ["-s", str(self.script), f"http://127.0.0.1:{self.port}{path}"]
        if key:
            cmd[1:1] = ["-H", f"X-API-Key: {key}"]
        cmd += ["--", str(count)]

        def call() -> int:
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            if "Non-2xx" in out:
                raise RuntimeError(f"{path}: some answers were not 200")
            sent = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
            if sent < count:
                raise RuntimeError(f"{path}: wrk stopped after {sent} of {count} requests")
            return sent

        call()  # the first answers work (and the key validates) before anything is timed
        return call

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _issued_key(db_url: str) -> str:
    """A counted key (no rate limit) in a fresh issuer database; its plaintext."""
    from byok.issuing import KeyIssuer

    issuer = KeyIssuer(db_url, signing_secret=SECRET)
    try:
        org, _ = issuer.get_or_create_organization("wrk bench")
        return issuer.create_key(org.id).plaintext
    finally:
        issuer.close()


def pg_rows() -> list[Row]:
    """PostgreSQL over HTTP at c = 1 and c = 16 against the no-auth route (none without wrk or
    PostgreSQL)."""
    if shutil.which("wrk") is None:
        print("bench/wrk.py: wrk is not installed: no PostgreSQL HTTP rows", file=sys.stderr)
        return []
    from bench.issuing import _pg_url

    db_url = _pg_url()
    if db_url is None:
        print("bench/wrk.py: no PostgreSQL: no PostgreSQL HTTP rows", file=sys.stderr)
        return []
    folder = Path(tempfile.mkdtemp(prefix="byok-bench-wrk-"))
    key = _issued_key(db_url)
    server = Server(db_url, folder)
    atexit.register(server.close)
    api1, api16 = server.load("/api", 1, key), server.load("/api", 16, key)
    what = "HTTP wrk, PostgreSQL, counted validate_key, 1 worker"
    return [
        Row(f"{what}, c = 1: vs no-auth route (no bar)", api1, server.load("/open", 1), NO_BAR),
        Row(
            f"{what}, c = 16: vs no-auth route (rps ≥ 0.6×)",
            api16,
            server.load("/open", 16),
            PG_BAR,
        ),
        Row(f"{what}: c = 16 vs c = 1 (rps rising from c = 1 to 16)", api16, api1, RISE_BAR),
    ]
