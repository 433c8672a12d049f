"""Throwaway database servers for the bench and the test fixtures (one home, outside tests/):
a PostgreSQL cluster and a MariaDB server in temporary directories, on 127.0.0.1 only, and the
admin statements (CREATE / DROP DATABASE) they need. No pytest here."""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "PG_BIN_ENV",
    "MariaDB",
    "PgCluster",
    "admin_exec",
    "fast_tmp",
    "free_port",
    "mysql_admin",
    "mysql_drop",
    "mysql_exec",
    "pg_bindir",
    "with_db",
]

PG_BIN_ENV = "BYOK_PG_BIN"  # directory holding initdb / pg_ctl, when not in a standard place


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def process_server(
    cmd: list[str],  # the server's command line (it listens on `port`)
    port: int,  # where it listens, on 127.0.0.1
    *,
    ready: str = "/",  # a path that answers once it is up
    cwd: Path | None = None,  # its working directory
    env: dict[str, str] | None = None,  # its environment (None: ours)
    wait_s: float = 60.0,  # how long it may take to start on a loaded machine
) -> Any:
    """A server process on 127.0.0.1 for the life of the block; yields its base URL."""
    import httpx

    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                httpx.get(base + ready, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def pg_bindir() -> Path | None:
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


def fast_tmp() -> str | None:
    """A RAM-backed temp dir when there is room (CREATE DATABASE: ~10 ms there, ~400 ms on a slow disk)."""
    shm = Path("/dev/shm")
    try:
        if os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= 1 << 30:
            return str(shm)
    except OSError:
        pass
    return None  # the default temp dir


class PgCluster:
    """A throwaway PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # mkdtemp (not pytest's tmp dirs, which are 0700 under root's tree) so `postgres` can reach it
        self.base = Path(tempfile.mkdtemp(prefix="byok-pg-", dir=fast_tmp()))
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


def with_db(url: str, dbname: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def admin_exec(url: str, *statements: str) -> None:
    """Run statements with autocommit (CREATE/DROP DATABASE cannot run in a transaction)."""
    import psycopg

    with psycopg.connect(with_db(url, "postgres"), autocommit=True, connect_timeout=10) as conn:
        for stmt in statements:
            conn.execute(stmt)


class MariaDB:
    """A throwaway MariaDB server (Debian's mariadb-server) in a temporary directory, listening
    on 127.0.0.1 only, with a user `byok` (a random password) allowed everything."""

    def __init__(self, server: str, install: str) -> None:
        self.server, self.install = server, install
        # mkdtemp (not pytest's 0700 tmp dirs under root's tree) so `mysql` can reach it
        self.base = Path(tempfile.mkdtemp(prefix="byok-mariadb-", dir=fast_tmp()))
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

    def died(self) -> str | None:
        """The end of the server's log if it has exited on its own (a crash), else None."""
        if self.proc is None or self.proc.poll() is None:
            return None
        log = self.base / "server.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
        return f"mariadbd exited with {self.proc.returncode}: {tail.strip()}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


def mysql_admin(url: str) -> Any:
    """An autocommit PyMySQL connection to the server of `url` (no database selected)."""
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username or "root",
        password=parts.password or "", autocommit=True, connect_timeout=10,
    )  # fmt: skip


def mysql_exec(url: str, *statements: str) -> None:
    """Run statements with autocommit on the server of `url` (no database selected)."""
    with mysql_admin(url) as conn, conn.cursor() as cur:
        for stmt in statements:
            cur.execute(stmt)


def mysql_drop(url: str, name: str) -> None:
    """Drop a database, first ending the connections a test's engine may still hold open in it
    (DROP DATABASE waits for their metadata locks)."""
    import pymysql

    with mysql_admin(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s", (name,))
        for (pid,) in cur.fetchall():
            with contextlib.suppress(pymysql.err.OperationalError, pymysql.err.InternalError):
                cur.execute(f"KILL {int(pid)}")
        cur.execute("SET SESSION lock_wait_timeout = 30")
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
