"""Issued keys: byok.issuing against apikeys-platform 0.2.0, the same calls through each one's
async `APIKeyClient`, sequential, one SQLite file each in the same temporary directory, each
library with its own default settings (byok: WAL, synchronous=NORMAL; apikeys-platform:
SQLAlchemy + aiosqlite defaults). Each timed call awaits BATCH validations on one event loop, so
entering the loop costs both sides alike. Plus byok's sync `KeyIssuer` (against the reference's
async call, for information), one row on PostgreSQL ($BYOK_BENCH_PG_URL, else a throwaway
cluster when the PostgreSQL binaries are installed) and two on MariaDB, both libraries on the
same server, each in its own database ($BYOK_BENCH_MARIADB_URL, else a throwaway server when
mariadb-server is installed; the reference through its `mysql+aiomysql://` driver).

Bars (from the issues): defaults ≥ 20× the reference's validations per second (ratio ≤ 0.05),
read-only ≥ 10× (≤ 0.1), a mistyped key ≥ 100× (≤ 0.01); on MariaDB, ≥ 10× (≤ 0.1).
"""

from __future__ import annotations

import asyncio
import atexit
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench import Row, servers

__all__ = ["rows"]

SECRET = "bench-signing-secret-0123456789abcdef"  # both libraries' signing secret
BATCH = 10  # validations awaited per timed call
NO_BAR = math.inf
SBIN = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"))  # mariadbd

_loop = asyncio.new_event_loop()  # one loop for both sides (aiosqlite binds to it)
_tmp = tempfile.TemporaryDirectory(prefix="byok-bench-issuing-")


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    return _loop.run_until_complete(coro)


def _typo(key: str) -> str:
    """The key with its last character changed (a well-shaped, mistyped key)."""
    return key[:-1] + ("A" if key[-1] != "A" else "B")


class Side:
    """One library's client and keys: `limited` (rate limit), `plain` (none), `typo`."""

    def __init__(self, mod: Any, url: str, **client_kw: Any):
        self.mod = mod
        if mod.__name__ == "apikeys":
            _run(mod.create_tables(url))
        self.client = mod.APIKeyClient(url, signing_secret=SECRET, **client_kw)

        async def setup() -> tuple[str, str]:
            org, _ = await self.client.get_or_create_organization("Bench")
            limit = mod.RateLimit(requests=10**9, window=mod.RateLimitWindow.minute)
            meta = mod.KeyMetadata(rate_limit=limit, scopes=["read"])
            limited = await self.client.create_key(str(org.id), metadata=meta)
            plain = await self.client.create_key(str(org.id), metadata=mod.KeyMetadata())
            return limited.plaintext, plain.plaintext

        self.limited, self.plain = _run(setup())
        self.typo = _typo(self.limited)

    def batch(self, call: Callable[[], Coroutine[Any, Any, Any]]) -> Callable[[], Any]:
        """A timed callable awaiting BATCH calls; checked once."""

        async def many() -> Any:
            for _ in range(BATCH):
                last = await call()
            return last

        def run() -> Any:
            return _run(many())

        run()
        return run

    def defaults(self) -> Callable[[], Any]:
        return self.batch(lambda: self.client.validate_key(self.limited))

    def read_only(self) -> Callable[[], Any]:
        return self.batch(lambda: self.client.validate_key(self.plain, track_usage=False))

    def mistyped(self) -> Callable[[], Any]:
        invalid = self.mod.InvalidKeyError

        async def call() -> bool:
            try:
                await self.client.validate_key(self.typo)
            except invalid:
                return True
            raise AssertionError("a mistyped key validated")

        return self.batch(call)


class SyncSide:
    """byok's sync engine with its own file and keys: the same three calls as plain calls."""

    def __init__(self, url: str, **issuer_kw: Any):
        from byok.issuing import InvalidKeyError, KeyIssuer, KeyMetadata, RateLimit

        self.engine = engine = KeyIssuer(url, signing_secret=SECRET, **issuer_kw)
        org, _ = engine.get_or_create_organization("Bench")
        meta = KeyMetadata(rate_limit=RateLimit(10**9, "minute"), scopes=["read"])
        self.limited = engine.create_key(org.id, metadata=meta).plaintext
        self.plain = engine.create_key(org.id).plaintext
        self.typo, self.invalid = _typo(self.limited), InvalidKeyError

    def batch(self, call: Callable[[], Any]) -> Callable[[], Any]:
        """A timed callable making BATCH calls; checked once."""

        def run() -> Any:
            for _ in range(BATCH):
                last = call()
            return last

        run()
        return run

    def defaults(self) -> Callable[[], Any]:
        return self.batch(lambda: self.engine.validate_key(self.limited))

    def read_only(self) -> Callable[[], Any]:
        return self.batch(lambda: self.engine.validate_key(self.plain, track_usage=False))

    def mistyped(self) -> Callable[[], Any]:
        def call() -> bool:
            try:
                self.engine.validate_key(self.typo)
            except self.invalid:
                return True
            raise AssertionError("a mistyped key validated")

        return self.batch(call)


def _sqlite(name: str) -> str:
    return f"sqlite:///{Path(_tmp.name) / name}"


def _pg_url() -> str | None:
    """$BYOK_BENCH_PG_URL, else a throwaway cluster (stopped at exit), else None."""
    url = os.environ.get("BYOK_BENCH_PG_URL")
    if url:
        return url
    bindir = servers.pg_bindir()
    if bindir is None:
        return None
    cluster = servers.PgCluster(bindir)
    try:
        cluster.start()
    except (RuntimeError, OSError):
        cluster.stop()
        return None
    atexit.register(cluster.stop)
    url = f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres"
    servers.admin_exec(url, "CREATE DATABASE byok_bench")
    return url.rsplit("/", 1)[0] + "/byok_bench"


def _mariadb_url() -> str | None:
    """$BYOK_BENCH_MARIADB_URL (a server URL), else a throwaway server (stopped at exit), else
    None; `mysql://…/` without a database: each side gets its own."""
    url = os.environ.get("BYOK_BENCH_MARIADB_URL")
    if url:
        return url.rsplit("/", 1)[0] + "/"
    server, install = shutil.which("mariadbd", path=SBIN), shutil.which("mariadb-install-db")
    if server is None or install is None:
        return None
    maria = servers.MariaDB(server, install)
    try:
        maria.start()
    except (RuntimeError, OSError):
        maria.stop()
        return None
    atexit.register(maria.stop)
    return maria.url("")


def _mariadb_rows(server: str, n: str) -> list[Row]:
    """byok and the reference on the same MariaDB, each in a fresh database of its own."""
    import apikeys

    import byok.issuing as ours_mod

    for name in ("byok_bench", "apikeys_bench"):
        servers.mysql_exec(server, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    ours = Side(ours_mod, server + "byok_bench")  # mysql://: byok's PyMySQL
    ref = Side(apikeys, "mysql+aiomysql" + server.removeprefix("mysql") + "apikeys_bench")
    return [
        Row(
            f"issuing: {n}, defaults (usage + rate limit), async, MariaDB, both (≥ 10×)",
            ours.defaults(),
            ref.defaults(),
            1 / 10,
        ),
        Row(
            f"issuing: {n}, read-only, async, MariaDB, both (≥ 10×)",
            ours.read_only(),
            ref.read_only(),
            1 / 10,
        ),
    ]


def rows() -> list[Row]:
    """Issued-key rows: validation through the async clients, the sync engine, PostgreSQL."""
    import apikeys

    import byok.issuing as ours_mod

    ours = Side(ours_mod, _sqlite("byok.db"))
    ref = Side(apikeys, _sqlite("apikeys.db"))
    uncached = Side(ours_mod, _sqlite("byok-nocache.db"), cache_ttl=0)
    sync = SyncSide(_sqlite("byok-sync.db"))
    sync_uncached = SyncSide(_sqlite("byok-sync-nocache.db"), cache_ttl=0)
    n = f"{BATCH}× validate_key"
    found = [
        Row(
            f"issuing: {n}, defaults (usage + rate limit), async, SQLite (≥ 20×)",
            ours.defaults(),
            ref.defaults(),
            1 / 20,
        ),
        Row(
            f"issuing: {n}, read-only (no usage, no limit), async, SQLite (≥ 10×)",
            ours.read_only(),
            ref.read_only(),
            1 / 10,
        ),
        Row(
            f"issuing: {n}, a mistyped key, async (≥ 100×)",
            ours.mistyped(),
            ref.mistyped(),
            1 / 100,
        ),
        Row(
            f"issuing: {n}, defaults, async, cache_ttl=0 (information)",
            uncached.defaults(),
            ref.defaults(),
            NO_BAR,
        ),
        Row(
            f"issuing: {n}, read-only, async, cache_ttl=0 (information)",
            uncached.read_only(),
            ref.read_only(),
            NO_BAR,
        ),
        Row(
            f"issuing: {n}, defaults, sync KeyIssuer (vs the reference's async)",
            sync.defaults(),
            ref.defaults(),
            NO_BAR,
        ),
        Row(
            f"issuing: {n}, read-only, sync KeyIssuer (vs async)",
            sync.read_only(),
            ref.read_only(),
            NO_BAR,
        ),
        Row(
            f"issuing: {n}, read-only, sync KeyIssuer, cache_ttl=0 (vs async)",
            sync_uncached.read_only(),
            ref.read_only(),
            NO_BAR,
        ),
        Row(
            f"issuing: {n}, a mistyped key, sync KeyIssuer (vs async)",
            sync.mistyped(),
            ref.mistyped(),
            NO_BAR,
        ),
    ]
    pg = _pg_url()
    if pg is not None:
        found.append(
            Row(
                f"issuing: {n}, defaults, async, PostgreSQL (vs the reference on SQLite)",
                Side(ours_mod, pg).defaults(),
                ref.defaults(),
                NO_BAR,
            )
        )
    maria = _mariadb_url()
    if maria is not None:
        found += _mariadb_rows(maria, n)
    return found
