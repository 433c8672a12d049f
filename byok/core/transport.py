"""Transport checks: is this production, did the request come over HTTPS (believing
X-Forwarded-Proto only from a trusted proxy), and the reference's `validate_environment`.
Re-exported by `byok.core.security`, where the reference kept them."""

from __future__ import annotations

import ipaddress
import os
import warnings
from collections.abc import Iterable
from typing import Any

from .types import BYOKException, SecurityWarning

__all__ = ["InsecureTransportError", "check_https", "is_production", "validate_environment"]


class InsecureTransportError(BYOKException):
    """Key material would travel over plain HTTP in production."""


def is_production(
    setting: bool | None = None,  # an explicit answer wins
) -> bool:
    """Production is a setting, else env BYOK_ENV or ENVIRONMENT in {production, prod}."""
    if setting is not None:
        return setting
    env = os.environ.get("BYOK_ENV") or os.environ.get("ENVIRONMENT") or ""
    return env.strip().lower() in {"production", "prod"}


def _trusted(
    host: str | None,  # the peer address of the connection
    proxies: Iterable[str],  # trusted proxy addresses or networks, e.g. "10.0.0.0/8"
) -> bool:
    """True when `host` is one of the trusted proxies."""
    if not host:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(p, strict=False) for p in proxies)


def check_https(
    request: Any,  # a Starlette request
    trusted_proxies: Iterable[str] = (),  # proxies whose X-Forwarded-Proto is believed
) -> bool:
    """True when the request came over HTTPS (X-Forwarded-Proto only from a trusted proxy).

    The value believed is the last one, the one the nearest (trusted) proxy set: a proxy that
    appends to the header keeps what the client sent in front (as uvicorn's proxy handling).
    """
    if request.url.scheme in ("https", "wss"):
        return True
    proxies = tuple(trusted_proxies)
    if not proxies:
        return False
    client = getattr(request, "client", None)
    if not _trusted(client.host if client else None, proxies):
        return False
    values = ",".join(request.headers.getlist("x-forwarded-proto")).split(",")
    nearest = next((v.strip().lower() for v in reversed(values) if v.strip()), "")
    return nearest == "https"


def validate_environment(
    request: Any,  # a Starlette request
    require_https: bool = True,  # whether HTTPS is required in production
    is_production: bool | None = None,  # None = from BYOK_ENV / ENVIRONMENT
    trusted_proxies: Iterable[str] = (),  # proxies whose X-Forwarded-Proto is believed
) -> None:
    """Refuse plain HTTP in production (InsecureTransportError); warn in development."""
    if not require_https or check_https(request, trusted_proxies):
        return
    if _is_production(is_production):
        raise InsecureTransportError("API keys must not travel over plain HTTP in production")
    warnings.warn(
        "API keys are sent over plain HTTP; fine for local development, not for production",
        SecurityWarning,
        stacklevel=2,
    )


_is_production = is_production  # validate_environment's parameter shadows the function
