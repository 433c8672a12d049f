"""Route guards: `@require_api_key("openai")` (under `@rt`) decrypts the key once and hands it to
the handler as its `api_key` parameter; without a key a page is redirected to the settings URL
(`?next=`), an htmx request gets `HX-Redirect` (or an inline key form) and a JSON request a 401.
The user is setup_byok's (its `user_id_func`, else `req.scope["auth"]`) unless the guard is given
a `user_id_func`; a signed-out user of per-user storage is sent to setup_byok's `login_url`.

`guard(check, injected)` is the machinery every byok guard is built on (the issued-key
`require_scopes` too): the handler keeps the signature FastHTML reads, minus the parameters the
guard fills, plus the request when it did not take one.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fasthtml.common import FtResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from byok.components.wiring import DEFAULT_BASE_URL, key_url
from byok.core.providers import check_provider
from byok.core.storage import BYOKManager
from byok.core.types import EncryptionError, StorageError, ValidationError

from .context import (
    UserIdError,
    UserIdFunc,
    call_storage,
    check_user_id_func,
    find_manager,
    identity_of,
    resolve_user_id,
)
from .csrf import csrf_token
from .http import Answer, RequestKind, next_of, refusal, request_kind, sign_in, with_next

__all__ = [
    "INJECT_KEY",
    "INJECT_PROVIDER",
    "SCOPE_API_KEY",
    "SCOPE_PROVIDER",
    "MissingKeyResponse",
    "guard",
    "require_any_api_key",
    "require_api_key",
]

log = logging.getLogger("byok")

SCOPE_API_KEY = "byok_api_key"  # request.scope entry holding the key a guard decrypted
SCOPE_PROVIDER = "byok_provider"  # request.scope entry holding that key's provider
INJECT_KEY = "api_key"  # a guarded handler's parameter that receives the decrypted key
INJECT_PROVIDER = "key_provider"  # a guarded handler's parameter that receives its provider
_REQ = "byok_request_"  # parameter added to a guarded handler that does not take the request

Check = Callable[[HTTPConnection], "dict[str, Any] | Answer | Awaitable[dict[str, Any] | Answer]"]
"""request -> the values the guard found (handler parameter -> value), or the answer instead;
or an awaitable of either (an `async def` check, or one that needs I/O only sometimes)."""


class MissingKeyResponse(StrEnum):
    """How a guard answers an htmx request that lacks the key."""

    REDIRECT = "redirect"  # HX-Redirect to the settings URL (with next=)
    FORM = "form"  # an inline key form fragment, swapped where the request targeted


def _is_request_param(name: str, param: inspect.Parameter) -> bool:
    """True when FastHTML fills this parameter with the request (same rules as fasthtml)."""
    anno = param.annotation
    if anno is inspect.Parameter.empty:
        return "request".startswith(name.lower())
    return isinstance(anno, type) and issubclass(anno, HTTPConnection)


class _Plan:
    """How a guarded handler is called: its visible signature and the parameters byok fills."""

    def __init__(self, func: Callable[..., Any], injected: tuple[str, ...], needs: str | None):
        try:
            sig = inspect.signature(func, eval_str=True)
        except (NameError, TypeError):  # unresolvable string annotations: keep them as they are
            sig = inspect.signature(func)
        params = dict(sig.parameters)
        self.injected = {n for n in injected if params.pop(n, None) is not None}  # ones it takes
        if needs is not None and needs not in self.injected:
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
                name = getattr(func, "__qualname__", repr(func))
                raise TypeError(
                    f"{name} takes no {needs!r} parameter, which the guard fills: add "
                    f"`{needs}: str` to its parameters (or **kwargs)"
                )
            self.injected.update(injected)  # **kwargs: they arrive there
        self.request_name = next((n for n, p in params.items() if _is_request_param(n, p)), None)
        self.added_request = self.request_name is None
        visible = list(params.values())
        if self.added_request:
            self.request_name = _REQ
            extra = inspect.Parameter(_REQ, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
            at = next(
                (i for i, p in enumerate(visible) if p.kind is inspect.Parameter.VAR_KEYWORD),
                len(visible),
            )
            visible.insert(at, extra)
        self.signature = sig.replace(parameters=visible)
        self.is_async = inspect.iscoroutinefunction(func)


def guard(
    check: Check,  # request -> {parameter: value} to hand the handler, or the answer instead
    # (or an awaitable of either)
    injected: tuple[str, ...],  # the handler parameters the guard fills (hidden from FastHTML)
    *,
    needs: str | None = None,  # a parameter the handler must take (or **kwargs): else TypeError
    after: Callable[[HTTPConnection, Any], Any] | None = None,  # (request, handler's answer) ->
    # the answer sent (e.g. with headers added); None: the handler's answer as it is
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator (under `@rt`): the handler runs only when `check` passes, given what it found."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        plan = _Plan(func, injected, needs)

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = kwargs.pop(_REQ) if plan.added_request else kwargs.get(plan.request_name)
            if not isinstance(request, HTTPConnection):
                raise RuntimeError("a guarded handler must be called by FastHTML (no request)")
            found = check(request)
            if type(found) is not dict:
                # bench "HTTP wrk, PostgreSQL, read-only validate_key": a check answered
                # without I/O returns its dict, no coroutine made and awaited
                if isinstance(found, Awaitable):
                    found = await found
                if not isinstance(found, dict):
                    return found
            if plan.injected:
                kwargs.update((n, v) for n, v in found.items() if n in plan.injected)
            if plan.is_async:
                result = await func(*args, **kwargs)
            else:
                result = await run_in_threadpool(func, *args, **kwargs)
            return result if after is None else after(request, result)

        wrapper.__signature__ = plan.signature  # type: ignore[attr-defined]
        return wrapper

    return decorator


@dataclass(frozen=True)
class _KeyNeed:
    """What a key guard needs and how it answers without the key."""

    providers: tuple[str, ...]
    user_id_func: UserIdFunc | None
    settings_url: str
    htmx: MissingKeyResponse
    keys_url: str
    manager: BYOKManager | None

    def missing(self, request: HTTPConnection, detail: str) -> Answer:
        """No usable key: redirect, HX-Redirect / inline form, or JSON 401."""
        target = with_next(self.settings_url, next_of(request))
        kind = request_kind(request)
        if kind is RequestKind.JSON:
            body = {
                "error": "api_key_required",
                "detail": detail,
                "providers": list(self.providers),
                "settings_url": target,
            }
            return JSONResponse(body, status_code=401)
        if kind is RequestKind.HTMX:
            if self.htmx is MissingKeyResponse.FORM:
                return FtResponse(self._inline_form(request), status_code=200)
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    def _inline_form(self, request: HTTPConnection) -> Any:
        """A key form for the missing provider(s), posting to the key routes with the CSRF token."""
        from byok.components import forms

        token = csrf_token(request) if isinstance(request.scope.get("session"), dict) else None
        if len(self.providers) == 1:
            provider = self.providers[0]
            action = key_url(self.keys_url, provider)
            return forms.KeyInputForm(provider, action=action, csrf_token=token)
        return forms.MultiProviderKeyForm(
            list(self.providers), action=self.keys_url, csrf_token=token
        )

    async def __call__(self, request: HTTPConnection) -> dict[str, Any] | Answer:
        """{api_key, key_provider} for the first provider with a live key, or the answer without."""
        manager = find_manager(request, self.manager)
        if manager is None:
            log.error(
                "byok guard on %s: no manager (use setup_byok or pass manager=)", request.url.path
            )
            return refusal(request, 503, "API key storage is not configured", code="not_configured")
        try:
            user_id = await resolve_user_id(request, self.user_id_func, manager)
        except UserIdError:  # the app's bug, logged: never a 500
            return refusal(
                request,
                503,
                "Your API keys are unavailable: this site could not identify your account",
                code="user_id",
            )
        if user_id is None and manager.needs_user:  # signed out: to the app's sign-in page
            login_url = identity_of(request, manager).login_url
            if login_url is not None:
                return sign_in(request, login_url, "sign in to use your API keys")
        unreadable = False
        for provider in self.providers:
            try:
                key = await call_storage(manager, manager.get_key, request, provider, user_id)
            except ValidationError:  # e.g. no user id with database storage: not signed in
                return self.missing(request, "sign in to use your API keys")
            except EncryptionError:
                unreadable = True
                continue
            except StorageError:
                log.warning("byok guard: key storage unavailable", exc_info=True)
                return refusal(
                    request, 503, "API key storage is unavailable; try again", code="storage"
                )
            if key is not None:
                request.scope[SCOPE_API_KEY] = key
                request.scope[SCOPE_PROVIDER] = provider
                return {INJECT_KEY: key, INJECT_PROVIDER: provider}
        if unreadable:
            return self.missing(request, "a stored API key could not be read: enter it again")
        return self.missing(request, f"an API key for {' or '.join(self.providers)} is required")


def require_api_key(
    provider: str,  # provider whose key the route needs, e.g. "openai"
    user_id_func: UserIdFunc | None = None,  # request -> user id; None = setup_byok's / auth
    settings_url: str = DEFAULT_BASE_URL,  # where a page without the key is sent (with next=)
    htmx: MissingKeyResponse = MissingKeyResponse.REDIRECT,  # htmx answer without the key
    keys_url: str = DEFAULT_BASE_URL,  # where the inline form posts (htmx=FORM)
    manager: BYOKManager | None = None,  # None = request.scope["byok"] / app.state.byok
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator (under `@rt`): the handler runs only with a live key, given as `api_key`."""
    provider = check_provider(provider, where="require_api_key")
    check_user_id_func(user_id_func, "require_api_key")
    need = _KeyNeed(
        (provider,), user_id_func, settings_url, MissingKeyResponse(htmx), keys_url, manager
    )
    return guard(need, (INJECT_KEY, INJECT_PROVIDER), needs=INJECT_KEY)


def require_any_api_key(
    providers: Iterable[str],  # acceptable providers, in order of preference
    user_id_func: UserIdFunc | None = None,  # request -> user id; None = setup_byok's / auth
    settings_url: str = DEFAULT_BASE_URL,  # where a page without a key is sent (with next=)
    htmx: MissingKeyResponse = MissingKeyResponse.REDIRECT,  # htmx answer without a key
    keys_url: str = DEFAULT_BASE_URL,  # where the inline form posts (htmx=FORM)
    manager: BYOKManager | None = None,  # None = request.scope["byok"] / app.state.byok
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the handler runs with the first provider that has a key (`api_key`, `key_provider`)."""
    names = tuple(check_provider(p, where="require_any_api_key") for p in providers)
    check_user_id_func(user_id_func, "require_any_api_key")
    if not names:
        raise ValidationError("require_any_api_key needs at least one provider")
    need = _KeyNeed(names, user_id_func, settings_url, MissingKeyResponse(htmx), keys_url, manager)
    return guard(need, (INJECT_KEY, INJECT_PROVIDER), needs=INJECT_KEY)
