"""`CleanupBeforeware`: expired keys removed at most once per interval per user or session
(importable from byok.middleware.beforeware too)."""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request

from byok.core.storage import BYOKManager
from byok.core.types import StorageError, ValidationError

from .before import _Before
from .context import SCOPE_AUTH, UserIdError, UserIdFunc, call_storage, checked_user_id

__all__ = ["CleanupBeforeware"]

log = logging.getLogger("byok")


class CleanupBeforeware(_Before):
    """Removes expired keys at most once per `config.cleanup_interval` per session (session
    storage) or per user (database, hybrid). It asks the manager (`sweep_due`, no I/O) and runs
    `sweep` when due: where the last sweep is remembered is the storage's business.

    Session storage: a request without a Cookie header has no stored keys, and a session seen
    not due is not asked again for a tenth of the interval while its cookie stays the same (a
    header check and a number in memory: the hash of the header, never the cookie itself)."""

    def __init__(
        self,
        byok_manager: BYOKManager,  # the manager whose keys are cleaned
        user_id_func: UserIdFunc | None = None,  # request -> user id; None = req.scope["auth"]
        interval: timedelta | None = None,  # None = byok_manager.config.cleanup_interval
        clock: Callable[[], float] = time.time,  # seconds since the epoch (tests move it)
        max_users: int | None = None,  # owners remembered per process (database); None = 10,000
    ):
        super().__init__()
        self.byok = byok_manager
        self.user_id_func = user_id_func
        self.interval = interval
        self.clock = clock
        if max_users is not None and byok_manager.database is not None:
            byok_manager.database.max_swept = max_users
        self.runs = 0  # cleanups started (for tests and monitoring)
        self._needs_user = byok_manager.needs_user  # sweeps per user (database) or per session
        every = interval or byok_manager.config.cleanup_interval
        self._horizon = every.total_seconds() / 10  # how long a session seen not due is trusted
        self._quiet: dict[int, float] = {}  # hash(Cookie header) -> until when it is not due

    def check(
        self,
        req: Request,  # the incoming request
    ) -> Awaitable[None] | None:
        """None when no sweep is due; else the coroutine that runs it (never fails a request)."""
        now = self.clock()
        try:
            if not self._needs_user:
                return self._sweep(req, None, now) if self._session_due(req, now) else None
            func = self.user_id_func
            user_id = func(req) if func is not None else req.scope.get(SCOPE_AUTH)
            if inspect.isawaitable(user_id):
                return self._later(req, user_id, now)
            return self._user_due(req, user_id, now)
        except UserIdError:  # the app's bug, logged once for the request: no sweep
            return None
        except (StorageError, ValidationError) as e:
            log.warning("byok cleanup skipped: %s", e)
            return None

    def _user_due(self, req: Request, user_id: Any, now: float) -> Awaitable[None] | None:
        user_id = checked_user_id(req, user_id)
        if user_id is None:  # nobody signed in (or not known yet): nothing of theirs to sweep
            return None
        manager = self.byok
        if manager.sweep_due(req, user_id, interval=self.interval, now=now):
            return self._sweep(req, user_id, now)
        return None

    async def _later(self, req: Request, user_id: Awaitable[Any], now: float) -> None:
        """An async user_id_func: await it, then sweep when due."""
        try:
            sweep = self._user_due(req, await user_id, now)
        except UserIdError:  # the app's bug, logged once for the request: no sweep
            return None
        except (StorageError, ValidationError) as e:
            log.warning("byok cleanup skipped: %s", e)
            return None
        if sweep is not None:
            await sweep
        return None

    async def _sweep(self, req: Request, user_id: Any, now: float) -> None:
        """Run the sweep (in the thread pool for a database); a failure is logged, not raised."""
        self.runs += 1
        manager = self.byok
        try:
            await call_storage(manager, functools.partial(manager.sweep, now=now), req, user_id)
        except (StorageError, ValidationError) as e:
            log.warning("byok cleanup skipped: %s", e)
        return None

    def _session_due(self, req: Request, now: float) -> bool:
        """sweep_due for a session, asked once per session content and tenth of the interval."""
        seen = None
        for name, value in req.scope["headers"]:
            if name == b"cookie":
                seen = hash((seen, value))
        if seen is None:
            return False  # no session cookie: no stored keys
        quiet = self._quiet
        until = quiet.get(seen)
        if until is not None and 0 <= until - now <= self._horizon:
            return False
        if self.byok.sweep_due(req, None, interval=self.interval, now=now):
            quiet.pop(seen, None)
            return True
        if len(quiet) >= _QUIET_SESSIONS:
            quiet.clear()
        quiet[seen] = now + self._horizon
        return False


_QUIET_SESSIONS = 10_000  # sessions remembered as not due (an int and a float each)
