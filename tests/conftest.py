"""Shared fixtures: a throwaway PostgreSQL and MariaDB, per-test database URLs, Chromium, a live server, HTML snapshots.

Outside CI a missing PostgreSQL, MariaDB or Chromium skips the tests that need it; with CI=true it fails
them instead, so nothing is silently skipped in CI. The fixtures start the database servers themselves:
`./run-tests` (which `.ci/run` calls) only installs the packages.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from hypothesis import settings
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

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
PG_BIN_ENV = "BYOK_PG_BIN"  # directory holding initdb / pg_ctl, when not in a standard place
MARIADB_URL_ENV = "BYOK_TEST_MARIADB_URL"  # use this MariaDB / MySQL instead of a throwaway one


def in_ci() -> bool:
    """True when running in CI (env CI=true), where nothing may be skipped."""
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """Skip the test locally, fail it in CI: a missing service must not pass CI silently."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bindir() -> Path | None:
    """The directory of the PostgreSQL server binaries (initdb, pg_ctl), newest version first."""
    override = os.environ.get(PG_BIN_ENV)
    candidates = [Path(override)] if override else []
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += versions
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    return None


def _fast_tmp() -> str | None:
    """A RAM-backed temp dir when there is room (CREATE DATABASE: ~10 ms there, ~400 ms on a slow disk)."""
    shm = Path("/dev/shm")
    try:
        if os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= 1 << 30:
            return str(shm)
    except OSError:
        pass
    return None  # the default temp dir


class _PgCluster:
    """A throwaway PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # mkdtemp (not pytest's tmp dirs, which are 0700 under root's tree) so `postgres` can reach it
        self.base = Path(tempfile.mkdtemp(prefix="byok-pg-", dir=_fast_tmp()))
        self.data = self.base / "data"
        self.port = 0
        self.as_postgres = os.geteuid() == 0  # root may not run the server: switch user

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_postgres:
            runuser = (
                shutil.which("runuser") or "/usr/sbin/runuser"
            )  # util-linux, /usr/sbin on Debian
            if Path(runuser).exists():
                cmd = [runuser, "-u", "postgres", "--", *cmd]
            else:
                cmd = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        if self.as_postgres:
            shutil.chown(self.base, "postgres", "postgres")
        res = self._run(
            str(self.bindir / "initdb"),
            *("-D", str(self.data), "-U", "postgres", "--auth=trust"),
            *("-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
        )
        if res.returncode != 0:
            raise RuntimeError(f"initdb failed: {res.stderr.strip()[-2000:]}")
        last = ""
        for _ in range(3):  # the free port can be taken between probe and start: retry
            self.port = free_port()
            opts = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            res = self._run(
                str(self.bindir / "pg_ctl"),
                *("-D", str(self.data), "-l", str(self.data / "server.log")),
                *("-w", "-t", "60", "-o", opts, "start"),
            )
            if res.returncode == 0:
                return
            log = self.data / "server.log"
            last = (res.stderr + (log.read_text(errors="replace") if log.exists() else ""))[-2000:]
        raise RuntimeError(f"pg_ctl start failed: {last.strip()}")

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


def _with_db(url: str, dbname: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def _admin_exec(url: str, *statements: str) -> None:
    """Run statements with autocommit (CREATE/DROP DATABASE cannot run in a transaction)."""
    import psycopg

    with psycopg.connect(_with_db(url, "postgres"), autocommit=True, connect_timeout=10) as conn:
        for stmt in statements:
            conn.execute(stmt)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a PostgreSQL database `byok_test` on a throwaway cluster (or $BYOK_TEST_PG_URL).

    Session-scoped, so under xdist each worker starts its own cluster (own temp dir, own free
    port) and removes it at its end: workers share nothing. Database names carry the pid."""
    override = os.environ.get(PG_URL_ENV)
    if override:
        yield override
        return
    bindir = _pg_bindir()
    if bindir is None:
        unavailable(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; `./run-tests` installs them"
        )
    cluster = _PgCluster(bindir)  # type: ignore[arg-type]
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        cluster.stop()
        unavailable(f"could not start a throwaway PostgreSQL: {e}")
    url = f"postgresql://postgres@127.0.0.1:{cluster.port}/byok_test"
    try:
        _admin_exec(url, "CREATE DATABASE byok_test")
        yield url
    finally:
        cluster.stop()


# --------------------------------------------------------------------------- MariaDB


class _MariaDB:
    """A throwaway MariaDB server (Debian's mariadb-server) in a temporary directory, listening
    on 127.0.0.1 only, with a user `byok` (a random password) allowed everything."""

    def __init__(self, server: str, install: str) -> None:
        self.server, self.install = server, install
        # mkdtemp (not pytest's 0700 tmp dirs under root's tree) so `mysql` can reach it
        self.base = Path(tempfile.mkdtemp(prefix="byok-mariadb-", dir=_fast_tmp()))
        self.data, self.socket = self.base / "data", self.base / "sock"
        self.as_mysql = os.geteuid() == 0  # root may not run the server: it switches to `mysql`
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.password = secrets.token_hex(12)

    def start(self) -> None:
        user = ["--user=mysql"] if self.as_mysql else []
        if self.as_mysql:
            shutil.chown(self.base, "mysql", "mysql")
        res = subprocess.run(
            [self.install, "--no-defaults", f"--datadir={self.data}", "--skip-test-db",
             "--auth-root-authentication-method=normal", "--skip-name-resolve", *user],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if res.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {res.stderr.strip()[-2000:]}")
        log = self.base / "server.log"
        for _ in range(3):  # the free port can be taken between probe and start: retry
            self.port = free_port()
            self.proc = subprocess.Popen(
                [self.server, "--no-defaults", f"--datadir={self.data}", *user,
                 f"--port={self.port}", f"--socket={self.socket}", "--bind-address=127.0.0.1",
                 f"--pid-file={self.base / 'pid'}", f"--log-error={log}", "--skip-name-resolve",
                 "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
                 "--innodb-buffer-pool-size=64M", "--performance-schema=OFF",
                 "--max-connections=400", "--character-set-server=utf8mb4"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._ready(deadline=time.monotonic() + 60):
                self._admin(
                    f"CREATE USER 'byok'@'127.0.0.1' IDENTIFIED BY '{self.password}'",
                    "GRANT ALL ON *.* TO 'byok'@'127.0.0.1'",
                )
                return
            self.proc.kill()
            self.proc.wait(timeout=10)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"mariadbd did not start: {tail.strip()}")

    def _ready(self, deadline: float) -> bool:
        import pymysql

        while time.monotonic() < deadline and self.proc and self.proc.poll() is None:
            try:
                pymysql.connect(
                    unix_socket=str(self.socket), user="root", connect_timeout=2
                ).close()
                return True
            except pymysql.err.OperationalError:
                time.sleep(0.1)
        return False

    def _admin(self, *statements: str) -> None:
        import pymysql

        how = {"unix_socket": str(self.socket), "user": "root"}
        conn = pymysql.connect(**how, autocommit=True, connect_timeout=10)
        with conn, conn.cursor() as cur:
            for stmt in statements:
                cur.execute(stmt)

    def url(self, dbname: str) -> str:
        return f"mysql://byok:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


def _mysql_admin(url: str) -> Any:
    """An autocommit PyMySQL connection to the server of `url` (no database selected)."""
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username or "root",
        password=parts.password or "", autocommit=True, connect_timeout=10,
    )  # fmt: skip


def _mysql_exec(url: str, *statements: str) -> None:
    """Run statements with autocommit on the server of `url` (no database selected)."""
    with _mysql_admin(url) as conn, conn.cursor() as cur:
        for stmt in statements:
            cur.execute(stmt)


def _mysql_drop(url: str, name: str) -> None:
    """Drop a database, first ending the connections a test's engine may still hold open in it
    (DROP DATABASE waits for their metadata locks)."""
    import pymysql

    with _mysql_admin(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s", (name,))
        for (pid,) in cur.fetchall():
            with contextlib.suppress(pymysql.err.OperationalError, pymysql.err.InternalError):
                cur.execute(f"KILL {int(pid)}")
        cur.execute("SET SESSION lock_wait_timeout = 30")
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


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
    maria = _MariaDB(server, install)  # type: ignore[arg-type]
    try:
        maria.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        maria.stop()
        unavailable(f"could not start a throwaway MariaDB: {e}")
    url = maria.url("byok_test")
    try:
        _mysql_exec(url, "CREATE DATABASE byok_test CHARACTER SET utf8mb4")
        yield url
    finally:
        maria.stop()


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
        _mysql_exec(server, f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        try:
            yield _with_db(server, name)
        finally:
            _mysql_drop(server, name)
        return
    server = request.getfixturevalue("pg_url")
    _admin_exec(server, f"CREATE DATABASE {name} TEMPLATE template0")
    try:
        yield _with_db(server, name)
    finally:
        # FORCE ends connections a test's engine may still hold open
        _admin_exec(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


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
