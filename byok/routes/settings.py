"""The settings of one app's key routes, fixed when `mount_key_routes` mounts them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from byok.middleware.context import UserIdFunc
from byok.middleware.http import Layout

__all__ = ["KeyRouteSettings"]


@dataclass(frozen=True)
class KeyRouteSettings:
    """What `mount_key_routes` was told: where the routes live, what they offer, how they check."""

    prefix: str  # where the routes live, e.g. "/api/keys"
    providers: tuple[str, ...]  # providers offered, in order (checked against the registry)
    title: str = "API keys"  # dashboard heading and page title
    provider_config: Mapping[str, Any] | None = None  # display/registry overrides per provider
    user_id_func: UserIdFunc | None = None  # request -> user id; None = the app's (setup_byok)
    check_format: bool = True  # refuse keys that do not fit the provider's known pattern
    labels: bool = False  # the forms take a label: several keys per provider
    custom_endpoints: bool = False  # users may set the optional endpoints the registry allows
    verify_timeout: float = 10.0  # seconds the Test button's verifier may take
    layout: Layout | None = None  # the app's shell around each full page: layout(*c, title=)
