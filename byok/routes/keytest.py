"""The key routes' Test button: the stored key checked by the app's verifier (or the built-in
`byok.verify.KeyVerifier`), with a timeout and off the event loop, its answer a `KeyTestResult`,
and the per-user rate limit that keeps a button from becoming a key-checking service.

`KeyTester` is the part of `byok.routes.KeyRoutes` that answers `POST {prefix}/{provider}/test`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fasthtml.common import FtResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from byok.components import KeyTestResult, TestState
from byok.components.wiring import PROBLEM_HEADER
from byok.core.ratelimit import DatabaseRateLimit, MemoryRateLimit, RateLimit
from byok.core.storage import BYOKManager
from byok.core.types import EncryptionError, StorageError, ValidationError
from byok.middleware.context import call_storage
from byok.middleware.http import RequestKind, request_kind
from byok.verify import CheckResult, Outcome

__all__ = ["TEST_LIMIT", "KeyTester", "TestLimit", "Verifier", "default_limit"]

log = logging.getLogger("byok")

Verifier = Callable[..., Awaitable[bool | str | CheckResult] | bool | str | CheckResult]
"""`verifier(provider, api_key)`: True = the key works; False or a message = rejected; or a
`CheckResult`. A verifier that takes an `endpoint` keyword also receives the key's endpoint."""

TEST_LIMIT = (10, 60.0)  # key tests per user: 10 per minute
TestLimit = tuple[int, float] | RateLimit | None  # (tests, seconds), a RateLimit, or no limit

_OUTCOME_STATE = {  # built-in outcomes -> what the card shows
    Outcome.VALID: TestState.VALID,
    Outcome.REJECTED: TestState.REJECTED,
    Outcome.RATE_LIMITED: TestState.RATE_LIMITED,
    Outcome.UNREACHABLE: TestState.UNREACHABLE,
    Outcome.UNEXPECTED: TestState.UNEXPECTED,
    Outcome.BLOCKED: TestState.BLOCKED,
    Outcome.UNSUPPORTED: TestState.ERROR,
}

_VERIFIER_THREADS = ThreadPoolExecutor(8, "byok-verifier")  # sync verifiers; never the loop's


class KeyTester:
    """Runs the Test button's check: rate limit, decrypt (with the endpoint), verify, answer."""

    def __init__(
        self,
        verifier: Verifier,  # tests a key: (provider, key) -> True | False | "why" | CheckResult
        verify_timeout: float,  # seconds the verifier may take
        test_limit: RateLimit | None,  # key tests per user; None = no limit
    ):
        self.verifier = verifier
        self.verify_timeout = verify_timeout
        self.test_limit = test_limit
        self._with_endpoint = _takes_endpoint(verifier)

    async def answer_test(
        self,
        req: Request,  # the test request
        manager: BYOKManager,  # the manager holding the key
        user_id: Any,  # its owner
        provider: str,  # whose key
        label_of: Callable[[], str | None],  # which key (may raise ValidationError)
    ) -> Any:
        """A KeyTestResult (JSON for API clients; 429 with Retry-After when over the limit)."""
        wait = await self._limited(req, manager, user_id)
        if wait is not None:
            state, message = TestState.RATE_LIMITED, f"Too many key tests: try again in {wait} s"
        else:
            state, message = await self._verify(req, manager, user_id, provider, label_of)
        retry = {"Retry-After": str(wait)} if wait is not None else {}
        if request_kind(req) is RequestKind.JSON:
            body = {"provider": provider, "state": state.value, "detail": message}
            return JSONResponse(body, status_code=429 if wait else 200, headers=retry)
        if wait is not None:  # PROBLEM_HEADER: byok.js lets htmx swap it into the test slot
            headers = {PROBLEM_HEADER: "rate_limited", **retry}
            return FtResponse(KeyTestResult(state, message), status_code=429, headers=headers)
        return KeyTestResult(state, message)

    async def _limited(self, req: Request, manager: BYOKManager, user_id: Any) -> int | None:
        """Seconds this user must wait before testing again, or None."""
        if self.test_limit is None:
            return None
        owner = f"user:{user_id}" if user_id is not None else None
        try:
            if owner is None:  # anonymous: this browser session's id
                owner = f"session:{manager.session_id(req)}"
                return self.test_limit.hit(f"test:{owner}")
            return await run_in_threadpool(self.test_limit.hit, f"test:{owner}")
        except StorageError:
            log.warning("byok: the key-test rate limit could not be counted", exc_info=True)
            return None  # the limit is a brake, not a lock: a counting failure never blocks

    async def _verify(
        self,
        req: Request,
        manager: BYOKManager,
        user_id: Any,
        provider: str,
        label_of: Callable[[], str | None],
    ) -> tuple[TestState, str | None]:
        """Decrypt the key (with its endpoint) and run the verifier with a timeout."""
        try:
            opened = functools.partial(manager.get_credentials, label=label_of())
            creds = await call_storage(manager, opened, req, provider, user_id)
        except EncryptionError:
            return TestState.ERROR, "The stored key cannot be read: enter it again"
        except ValidationError as e:
            return TestState.ERROR, str(e)
        except StorageError:
            return TestState.ERROR, "API key storage is unavailable"
        if creds is None:
            return TestState.ERROR, "No key stored"
        extra = {"endpoint": creds.endpoint} if self._with_endpoint else {}
        try:
            result = await asyncio.wait_for(
                _run_verifier(self.verifier, provider, creds.api_key, **extra),
                self.verify_timeout,
            )
        except TimeoutError:
            return TestState.UNREACHABLE, "The provider did not answer in time"
        except Exception as e:  # the app's verifier failed: report it, never a 500
            log.warning("byok verifier failed for %s: %s", provider, type(e).__name__)
            return TestState.ERROR, None
        return _test_state(result)


def _test_state(result: Any) -> tuple[TestState, str | None]:
    """A verifier's answer (CheckResult, True, False or a message) as (state, message)."""
    if isinstance(result, CheckResult):
        return _OUTCOME_STATE[result.outcome], result.message
    if result is True:
        return TestState.VALID, None
    if isinstance(result, str) and result:
        return TestState.REJECTED, result
    return TestState.REJECTED, None


def _takes_endpoint(verifier: Any) -> bool:
    """Whether the verifier accepts an `endpoint` keyword (it is then given the key's)."""
    try:
        params = inspect.signature(verifier).parameters
    except (TypeError, ValueError):
        return False
    return "endpoint" in params


def default_limit(
    manager: BYOKManager | None,  # the routes' manager, when known at mount time
    limit: tuple[int, float],  # (tests, seconds)
) -> RateLimit:
    """Counters in the manager's database when it has one (shared by every process)."""
    count, window = limit
    database = manager.database if manager is not None else None
    if database is None:
        return MemoryRateLimit(count, window)
    return DatabaseRateLimit(database.db.engine, count, window)


async def _run_verifier(verifier: Any, provider: str, key: str, **extra: Any) -> Any:
    """The verifier's answer: a coroutine function is awaited, a sync one runs in byok's own
    threads (a blocking `requests.get` never holds the event loop, and stalled verifiers never
    take the threads storage calls use); the caller's timeout covers both. `extra` carries the
    key's endpoint to a verifier that takes one."""
    method = type(verifier).__call__  # an object with an async __call__ counts as async
    if inspect.iscoroutinefunction(verifier) or inspect.iscoroutinefunction(method):
        return await verifier(provider, key, **extra)
    call = functools.partial(verifier, provider, key, **extra)
    result = await asyncio.get_running_loop().run_in_executor(_VERIFIER_THREADS, call)
    return await result if inspect.isawaitable(result) else result
