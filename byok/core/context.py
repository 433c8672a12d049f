"""Which BYOKManager serves a request: the one rule (`find_manager`), for the guards, the key
routes and the components alike. An explicit manager wins, then the one the beforeware put on
`request.scope["byok"]`, then the app's (`app.state.byok`, else the one inside `setup_byok`'s
beforeware in `app.before`, so a skipped path or a restart still finds it). It reads only what a
request and an app carry and imports nothing else of byok's, so anything can import it
(`byok.middleware.context` re-exports it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MANAGER_ATTR", "SCOPE_KEY", "app_manager", "find_manager"]

SCOPE_KEY = "byok"  # request.scope entry holding the BYOKManager
MANAGER_ATTR = "byok_manager"  # a beforeware exposing a manager has it under this attribute


def find_manager(
    request: Any,  # the incoming request (anything with a `scope` mapping), or None
    given: Any = None,  # an explicit BYOKManager: it wins
) -> Any:
    """The BYOKManager for this request: `given`, else request.scope["byok"], else the app's."""
    if given is not None:
        return given
    scope = getattr(request, "scope", None)
    if not isinstance(scope, Mapping):
        return None
    found = scope.get(SCOPE_KEY)
    return found if found is not None else app_manager(scope.get("app"))


def app_manager(
    app: Any,  # a FastHTML / Starlette app
) -> Any:
    """The app's manager: app.state.byok, else the one in its byok beforeware (`setup_byok`'s),
    found in `app.before` even when no request has run it yet (a skipped path, a restart)."""
    state = getattr(app, "state", None)
    found = getattr(state, "byok", None)
    if found is not None or state is None:
        return found
    before = getattr(app, "before", None) or ()
    for item in before if isinstance(before, list | tuple) else (before,):
        call = getattr(item, "f", item)  # a fasthtml Beforeware wraps the callable
        for part in getattr(getattr(call, "chain", None), "parts", (call,)):
            found = getattr(part, MANAGER_ATTR, None)
            if found is not None:
                state.byok = found
                return found
    return None
