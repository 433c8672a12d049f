"""Shared fixtures: a throwaway PostgreSQL and MariaDB, per-test database URLs, Chromium, a live server, HTML snapshots.

Outside CI a missing PostgreSQL, MariaDB or Chromium skips the tests that need it; with CI=true it fails
them instead, so nothing is silently skipped in CI. The fixtures start the database servers themselves:
`./run-tests` (which `.ci/run` calls) only installs the packages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import settings
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from bench import servers  # the throwaway database servers (the bench uses them too)
from bench.servers import free_port  # tests import it from here too
from tests.fake_providers import FakeProviders, Server
from tests.support import CI_EXAMPLES, DEEP_EXAMPLES, HYPOTHESIS_PROFILE_ENV, SECRET, Clock

if TYPE_CHECKING:
    from byok.core.storage import BYOKManager

# Hypothesis profiles (`examples()` in tests/support/ scales each property's own count by them):
#   dev  - locally: random cases, CI-sized counts (a property runs 1/5 of its deep count)
#   ci   - CI=true: the same counts, derandomized (the same cases every run: a red CI reproduces)
#   deep - the full counts (e.g. test_fuzz's 11,000 cases), random: BYOK_HYPOTHESIS=deep, or
#          pytest's own `--hypothesis-profile=deep` flag
settings.register_profile("dev", max_examples=CI_EXAMPLES)
settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, print_blob=True
)
settings.register_profile("deep", max_examples=DEEP_EXAMPLES)
settings.load_profile(
    os.environ.get(HYPOTHESIS_PROFILE_ENV) or ("ci" if os.environ.get("CI") == "true" else "dev")
)

ROOT = Path(__file__).resolve().parent.parent  # the project checkout
CHROMIUM = Path("/usr/bin/chromium")  # Debian's Chromium (Playwright cannot download its own here)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PG_URL_ENV = "BYOK_TEST_PG_URL"  # use this server instead of starting a throwaway cluster
MARIADB_URL_ENV = "BYOK_TEST_MARIADB_URL"  # use this MariaDB / MySQL instead of a throwaway one


def in_ci() -> bool:
    """True when running in CI (env CI=true), where nothing may be skipped."""
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """Skip the test locally, fail it in CI: a missing service must not pass CI silently."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a PostgreSQL database `byok_test` on a throwaway cluster (or $BYOK_TEST_PG_URL).

    Session-scoped, so under xdist each worker starts its own cluster (own temp dir, own free
    port) and removes it at its end: workers share nothing. Database names carry the pid."""
    override = os.environ.get(PG_URL_ENV)
    if override:
        yield override
        return
    bindir = servers.pg_bindir()
    if bindir is None:
        unavailable(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; `./run-tests` installs them"
        )
    cluster = servers.PgCluster(bindir)  # type: ignore[arg-type]
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        cluster.stop()
        unavailable(f"could not start a throwaway PostgreSQL: {e}")
    url = f"postgresql://postgres@127.0.0.1:{cluster.port}/byok_test"
    try:
        servers.admin_exec(url, "CREATE DATABASE byok_test")
        yield url
    finally:
        cluster.stop()


# --------------------------------------------------------------------------- MariaDB


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """URL (`mysql://`) of a MariaDB database `byok_test` on a throwaway server (or
    $BYOK_TEST_MARIADB_URL)."""
    override = os.environ.get(MARIADB_URL_ENV)
    if override:
        yield override
        return
    server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin")
    install = shutil.which("mariadb-install-db")
    if server is None or install is None:
        unavailable("MariaDB server binaries (mariadbd, mariadb-install-db) not found; "
                    "`./run-tests` installs mariadb-server")  # fmt: skip
    maria = servers.MariaDB(server, install)  # type: ignore[arg-type]
    try:
        maria.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        maria.stop()
        unavailable(f"could not start a throwaway MariaDB: {e}")
    url = maria.url("byok_test")
    try:
        servers.mysql_exec(url, "CREATE DATABASE byok_test CHARACTER SET utf8mb4")
        yield url
    finally:
        died = maria.died()
        maria.stop()
    if died:  # the tests after it failed to connect: say why, once
        raise RuntimeError(f"the throwaway MariaDB stopped during the run: {died}")


_db_counter = iter(range(1, 1_000_000))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL per test: a SQLite file, a new PostgreSQL database, or a new
    MariaDB database (its `mysql://` URL, as users write it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'byok.db'}"
        return
    name = f"byok_t{os.getpid()}_{next(_db_counter)}"
    if request.param == "mariadb":
        server = request.getfixturevalue("mariadb_url")
        servers.mysql_exec(server, f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        try:
            yield servers.with_db(server, name)
        finally:
            servers.mysql_drop(server, name)
        return
    server = request.getfixturevalue("pg_url")
    servers.admin_exec(server, f"CREATE DATABASE {name} TEMPLATE template0")
    try:
        yield servers.with_db(server, name)
    finally:
        # FORCE ends connections a test's engine may still hold open
        servers.admin_exec(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def make_manager(db_url: str) -> Iterator[Callable[..., BYOKManager]]:
    """A factory of managers on this test's database (closed at the end)."""
    from byok.core.storage import BYOKManager
    from byok.core.types import BYOKConfig, StorageBackend

    made: list[BYOKManager] = []

    def make(secret: str = SECRET, **config: Any) -> BYOKManager:  # config: BYOKConfig fields
        config.setdefault("storage_backend", StorageBackend.DATABASE)
        manager = BYOKManager(secret, db_url=db_url, config=BYOKConfig(**config))
        made.append(manager)
        return manager

    yield make
    for m in made:
        m.database.close()


# --------------------------------------------------------------------------- Time zones


@pytest.fixture(autouse=True)
def _provider_registry() -> Iterator[None]:
    """Providers a test (or a docs example) registers with `register_provider` are process-wide:
    each test ends with the registry as it found it, so none depends on which ran before it."""
    from byok.core.providers import names

    saved = dict(names._REGISTERED)
    yield
    names._REGISTERED.clear()
    names._REGISTERED.update(saved)


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves, starting at tests.support.CLOCK_START."""
    return Clock()


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set this process's local time zone (TZ + tzset) for one test; restored afterwards."""

    def use(zone: str) -> None:  # an IANA zone name, e.g. "Asia/Tokyo"
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


# --------------------------------------------------------------------------- Browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's /usr/bin/chromium headless (Playwright's own download is unavailable)."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found; `./run-tests` installs it")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


def pytest_configure(config: pytest.Config) -> None:
    """Silence one known deprecation inside pytest-base-url (pulled in by pytest-playwright)."""
    config.addinivalue_line(
        "filterwarnings",
        "ignore:Session-scoped fixtures defined as instance methods:pytest.PytestRemovedIn10Warning",
    )


# A test asking for one of these fixtures needs that server: it gets the marker (`-m "not
# postgres"`), whether it asks directly or through another fixture. A new server database adds
# its fixture here (e.g. "mariadb_url": "mariadb").
SERVER_MARKERS = {"pg_url": "postgres", "mariadb_url": "mariadb"}

# Module-scoped fixtures that build something slow (the docs site, a wheel in a fresh venv, a
# gallery export, a process pool): under xdist (`./run-tests` runs `-n auto --dist loadgroup`) every
# test using one runs on the same worker, so it is built once per run, not once per worker.
# Cheap module fixtures (a page, a TestClient) are not listed: their tests spread over workers.
BUILT_ONCE = {"site", "ruff_report", "installed", "exports", "exported", "pool"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests from the fixtures they use (`browser`, `postgres`), group the users of a slow
    module fixture for xdist, and order the run: browser tests last, because Playwright's sync
    API keeps an event loop running in the main thread from its first use to the end of the
    session and `asyncio.run` (the async issuing client's tests, docs examples) refuses to start
    inside it. Under xdist each worker runs its tests in this order, so the same holds there."""
    groups: dict[pytest.Item, str] = {}
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if {"page", "context", "browser"} & used:
            item.add_marker(pytest.mark.browser)
        for fixture, marker in SERVER_MARKERS.items():
            if fixture in used and item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))
        if built_once := sorted(BUILT_ONCE & used):
            groups[item] = f"{item.module.__name__}:{'+'.join(built_once)}"  # type: ignore[attr-defined]
            item.add_marker(pytest.mark.xdist_group(groups[item]))
    # a group holding a browser test runs after every non-browser test, all of it
    late = {groups[i] for i in items if i in groups and i.get_closest_marker("browser")}

    def order(item: pytest.Item) -> tuple[bool, bool]:
        last = item.get_closest_marker("browser") is not None or groups.get(item) in late
        return last, item not in groups  # within each part the slow groups start first

    items.sort(key=order)  # stable: otherwise the collection order


# --------------------------------------------------------------------------- Live server

LiveServer = Callable[..., str]


@pytest.fixture
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A factory: `live_server("pkg.mod:app")` serves an ASGI app with uvicorn, returns its base URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(
        app: str,  # ASGI app import string, e.g. "gallery.app:app"
        env: dict[str, str] | None = None,  # extra environment variables for the server
        factory: bool = False,  # `app` names a factory function returning the app
        timeout: float = 120.0,  # seconds to wait for the first answer (a loaded machine is slow)
    ) -> str:
        port = free_port()
        log_path = tmp_path_factory.mktemp("live-server") / "server.log"
        cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--log-level", "warning", "--no-access-log"]
        if factory:
            cmd.append("--factory")
        pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        full_env = {**os.environ, "PYTHONPATH": pythonpath, **(env or {})}
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
            )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{app} exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}"
                )
            try:
                httpx.get(base + "/", timeout=1.0)
                return base  # any HTTP answer (even 404) means it is serving
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(
            f"{app} did not answer within {timeout}s:\n{log_path.read_text()[-3000:]}"
        )

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


# --------------------------------------------------------------------------- Snapshots


class HTMLSnapshot(SingleFileSnapshotExtension):
    """One readable .html file per snapshot (`__snapshots__/<module>/<test>[<param>].html`)."""

    _write_mode = WriteMode.TEXT
    file_extension = "html"


@pytest.fixture
def html_snapshot(snapshot):
    """A syrupy snapshot that stores a str as a single HTML file."""
    return snapshot.use_extension(HTMLSnapshot)


@pytest.fixture
def fake_providers() -> Iterator[FakeProviders]:
    """A real HTTP server on 127.0.0.1 answering key checks as the providers do (see
    tests/fake_providers.py); reach it with OutboundPolicy(allow_networks=LOOPBACK)."""
    with Server() as state:
        yield state
