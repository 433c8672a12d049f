"""Issued-key validations over real HTTP on PostgreSQL: uvicorn (one worker, uvloop, httptools)
serving a FastHTML app on 127.0.0.1, loaded by wrk (`apt-get install wrk`) at c = 1 and c = 16.
PostgreSQL runs as in production: data on disk, every commit flushed ($BYOK_BENCH_PG_URL, else a
throwaway cluster), so a commit waits for the disk as it would there.

Each timed call is one wrk run of a fixed number of requests (a Lua script stops wrk at that
count), so the bench's µs per call is the time of those requests and a ratio of two rows is the
inverse of their requests/s ratio: "rps ≥ 0.6×" is "ratio ≤ 1/0.6". The routes of one app are
timed interleaved: `/open` (no auth), `/api` (`require_scopes`: a counted `validate_key`, a
compare-and-swap write per request, no rate limit; the concurrent ones of the event loop share a
statement, byok/issuing/combine.py) and `/read` (a read-only `validate_key`: no
usage, no limit, so a key verified lately is answered without a query), with KEYS keys sent in
turn, as many clients would (one more row sends a single key: concurrent requests then queue on
its row). wrk starts once per call (a few ms, on both sides alike). The machine's 2 cores are
shared by wrk, the server and PostgreSQL.

The write floor: a second tiny FastHTML app (`FLOOR_APP`, no byok in it) under the same uvicorn
settings, whose one route `/write` runs the least a counted validation must do: one durable write,
an autocommit `UPDATE floor_counters SET n = n + 1 WHERE id = %s RETURNING n` on a psycopg
connection. Its connections are a fixed pool of byok's default size (`POOL_SIZE`; psycopg_pool is
not a dependency) used from as many threads, as byok's pooled database does (core/pool.py
`in_pool_thread`); the row id comes from the X-API-Key header, KEYS ids in turn as the keys are.
It runs in its own uvicorn process, idle while the byok app's rows are timed and the reverse.

The rows, each a ratio of µs per request (the inverse of requests/s):
- counted, c = 1 and c = 16, vs the no-auth route: the issue's bar (rps ≥ 0.6× at c = 16);
- counted, c = 16 vs c = 1: rising with concurrency;
- counted vs the raw write route, c = 1 and c = 16: byok's cost beyond its one write (rps ≥ 0.8×);
- raw write route vs the no-auth route, c = 1 and c = 16 (no bar): how near the issue's 0.6× bar
  the machine's own floor is (a disk-flushed commit per request; the counted route shares one
  among the concurrent requests, so at c = 16 it may beat this floor);
- read-only, c = 1 and c = 16, vs the no-auth route (no bar), and one key at c = 16 (no bar).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import Row
from bench.servers import PgCluster, admin_exec, pg_bindir

__all__ = ["pg_rows"]

SECRET = "bench-wrk-signing-secret-0123456789abcdef"  # the issuer's signing secret
REQUESTS = 160  # requests per timed call, at any concurrency (so the calls compare)
KEYS = 64  # distinct keys the API requests send in turn (each key's counters are one row)
PG_BAR = 1 / 0.6  # c = 16: rps ≥ 0.6× the no-auth route's
FLOOR_BAR = 1 / 0.8  # counted: rps ≥ 0.8× the raw write route's (little beyond its one write)
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


@app.get("/read")
@require_scopes(client, track_usage=False, check_rate_limit=False)
async def read_route() -> str:
    return "ok"
"""

# the write floor: one autocommit UPDATE … RETURNING per request, nothing else; a fixed pool of
# psycopg connections used from as many threads (byok's pooled database does the same)
FLOOR_APP = """
import asyncio
import os
import queue
from concurrent.futures import ThreadPoolExecutor

import psycopg
from fasthtml.common import FastHTML
from starlette.requests import Request

SIZE = int(os.environ["BYOK_WRK_POOL"])
UPDATE = "UPDATE floor_counters SET n = n + 1 WHERE id = %s RETURNING n"
conns = queue.SimpleQueue()
for _ in range(SIZE):
    conns.put(psycopg.connect(os.environ["BYOK_WRK_DB"], autocommit=True))
threads = ThreadPoolExecutor(SIZE)
app = FastHTML(default_hdrs=False)


def write(row: int) -> int:
    conn = conns.get()
    try:
        return conn.execute(UPDATE, (row,), prepare=True).fetchone()[0]
    finally:
        conns.put(conn)


@app.get("/write")
async def write_route(request: Request) -> str:
    row = int(request.headers["x-api-key"])
    await asyncio.get_running_loop().run_in_executor(threads, write, row)
    return "ok"
"""

# wrk runs for its whole -d even when a thread stops: the script ends the process (one thread)
# at the count, exit status 0, or at the first answer that is not 200, exit status 3
# the keys given after the count are sent in turn as X-API-Key (none: the route is open)
STOP_AT = """
local done, limit, keys, turn = 0, 0, {}, 0
function init(args)
  limit = tonumber(args[1])
  for i = 2, #args do keys[#keys + 1] = args[i] end
end
function request()
  if #keys > 0 then
    turn = turn % #keys + 1
    wrk.headers["X-API-Key"] = keys[turn]
  end
  return wrk.format()
end
function response(status, headers, body)
  if status ~= 200 then os.exit(3) end
  done = done + 1
  if done >= limit then os.exit(0) end
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
        *,
        source: str = APP,  # the app module's text (it defines `app`)
        module: str = "wrk_app",  # the app module's name
    ):
        from byok.core.pool import POOL_SIZE

        (folder / f"{module}.py").write_text(source)
        self.script = folder / "stop_at.lua"
        self.script.write_text(STOP_AT)
        self.port = _free_port()
        env = {**os.environ, "BYOK_WRK_DB": db_url, "BYOK_WRK_SECRET": SECRET}
        env["BYOK_WRK_POOL"] = str(POOL_SIZE)  # the write floor's pool: byok's default size
        serve = [sys.executable, "-m", "uvicorn", f"{module}:app", "--app-dir", str(folder)]
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
        keys: Sequence[str] = (),  # issued keys sent in turn as X-API-Key
    ) -> Callable[[], int]:
        """One call: wrk sends REQUESTS requests; returns how many it sent."""
        count = REQUESTS
        cmd = [shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", "-d120s"]
        cmd += ["-s", str(self.script), f"http://127.0.0.1:{self.port}{path}"]
        cmd += ["--", str(count), *keys]

        def call() -> int:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode == 3:
                raise RuntimeError(f"{path}: an answer was not 200")
            if done.returncode != 0 or "requests in" in done.stdout:  # the count never came
                raise RuntimeError(f"{path}: wrk ended before {count} answers: {done.stderr}")
            return count

        call()  # the first answers work (and the key validates) before anything is timed
        return call

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _issued_keys(
    db_url: str,  # the issuer's database
    n: int,  # how many keys
) -> list[str]:
    """Counted keys (no rate limit) in the issuer database; their plaintexts."""
    from byok.issuing import KeyIssuer

    issuer = KeyIssuer(db_url, signing_secret=SECRET)
    try:
        org, _ = issuer.get_or_create_organization("wrk bench")
        return [issuer.create_key(org.id).plaintext for _ in range(n)]
    finally:
        issuer.close()


def _libpq(
    db_url: str,  # a database URL as byok takes it (a driver, pool_size may be named)
) -> str:
    """The same database as a URL psycopg's own connect takes."""
    import sqlalchemy as sa

    url = sa.make_url(db_url)
    query = {k: v for k, v in url.query.items() if k != "pool_size"}
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


def _floor_rows(
    db_url: str,  # the issuer's database (the floor's table goes beside byok's)
    n: int,  # how many rows
) -> list[str]:
    """The write floor's counter rows; their ids, as text (sent as X-API-Key)."""
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_counters")
        conn.execute("CREATE TABLE floor_counters (id integer PRIMARY KEY, n bigint NOT NULL)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO floor_counters VALUES (%s, 0)", [(i,) for i in range(n)])
    return [str(i) for i in range(n)]


def _durable_pg() -> str | None:
    """A throwaway PostgreSQL cluster as production runs one: its data on disk (not in RAM), every
    commit flushed (fsync, synchronous_commit: the defaults); stopped at exit. None without the
    PostgreSQL binaries."""
    bindir = pg_bindir()
    if bindir is None:
        return None
    cluster = PgCluster(bindir)
    shutil.rmtree(cluster.base, ignore_errors=True)  # it chose RAM: the data goes on disk
    cluster.base = Path(tempfile.mkdtemp(prefix="byok-pg-disk-"))
    cluster.data = cluster.base / "data"
    try:
        cluster.start()  # the tests' settings (no fsync), then restarted with the defaults
        opts = f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {cluster.data}"
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(cluster.data), "-l", str(cluster.data / "log")]
        done = cluster._run(*pg_ctl, "-w", "-t", "60", "-o", opts, "restart")
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
    except (RuntimeError, OSError):
        cluster.stop()
        return None
    atexit.register(cluster.stop)
    url = f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres"
    admin_exec(url, "CREATE DATABASE byok_wrk")
    return url.rsplit("/", 1)[0] + "/byok_wrk"


def pg_rows() -> list[Row]:
    """PostgreSQL over HTTP at c = 1 and c = 16 against the no-auth route (none without wrk or
    PostgreSQL)."""
    if shutil.which("wrk") is None:
        print("bench/wrk.py: wrk is not installed: no PostgreSQL HTTP rows", file=sys.stderr)
        return []
    db_url = os.environ.get("BYOK_BENCH_PG_URL") or _durable_pg()
    if db_url is None:
        print("bench/wrk.py: no PostgreSQL: no PostgreSQL HTTP rows", file=sys.stderr)
        return []
    folder = Path(tempfile.mkdtemp(prefix="byok-bench-wrk-"))
    keys = _issued_keys(db_url, KEYS)
    server = Server(db_url, folder)
    atexit.register(server.close)
    floor = Server(_libpq(db_url), folder, source=FLOOR_APP, module="wrk_floor")
    atexit.register(floor.close)
    ids = _floor_rows(_libpq(db_url), KEYS)
    api1, api16 = server.load("/api", 1, keys), server.load("/api", 16, keys)
    write1, write16 = floor.load("/write", 1, ids), floor.load("/write", 16, ids)
    what = f"HTTP wrk, PostgreSQL, counted validate_key ({KEYS} keys in turn), 1 worker"
    raw = f"HTTP wrk, PostgreSQL, raw write route (one autocommit UPDATE … RETURNING, {KEYS} rows"
    return [
        Row(f"{what}, c = 1: vs no-auth route (no bar)", api1, server.load("/open", 1), NO_BAR),
        Row(
            f"{what}, c = 16: vs no-auth route (rps ≥ 0.6×)",
            api16,
            server.load("/open", 16),
            PG_BAR,
        ),
        Row(f"{what}: c = 16 vs c = 1 (rps rising from c = 1 to 16)", api16, api1, RISE_BAR),
        *(
            Row(f"{what}, c = {c}: vs raw write route (rps ≥ 0.8×)", api, write, FLOOR_BAR)
            for c, api, write in ((1, api1, write1), (16, api16, write16))
        ),
        *(
            Row(
                f"{raw} in turn), 1 worker, c = {c}: vs no-auth route (the floor; no bar)",
                write,
                server.load("/open", c),
                NO_BAR,
            )
            for c, write in ((1, write1), (16, write16))
        ),
        *(
            Row(
                f"HTTP wrk, PostgreSQL, read-only validate_key ({KEYS} keys in turn, verified "
                f"lately: no query), 1 worker, c = {c}: vs no-auth route (no bar)",
                server.load("/read", c, keys),
                server.load("/open", c),
                NO_BAR,
            )
            for c in (1, 16)
        ),
        Row(
            "HTTP wrk, PostgreSQL, counted validate_key of ONE key, c = 16: vs no-auth route "
            "(its row's compare-and-swap serialises; no bar)",
            server.load("/api", 16, keys[:1]),
            server.load("/open", 16),
            NO_BAR,
        ),
    ]
