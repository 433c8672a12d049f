"""Key events: logged (masked, with a keyed fingerprint) and handed to `config.on_event`; the
plaintext is only ever masked and fingerprinted here, and a failing hook never breaks the call."""

from __future__ import annotations

import logging

from ..security import Keyring, mask_key
from ..types import BYOKConfig, EventKind, KeyEvent

__all__ = ["Events"]

log = logging.getLogger("byok")


class Events:
    """Where a manager's key events go: the "byok" logger and the app's hook."""

    def __init__(
        self,
        config: BYOKConfig,  # reads on_event
        keyring: Keyring,  # fingerprints keys (keyed HMAC)
    ):
        self.config = config
        self.keyring = keyring

    def emit(
        self,
        kind: EventKind,  # what happened
        provider: str,  # which provider
        user_id: str | None,  # whose key
        key: str | None = None,  # the plaintext, only to mask and fingerprint it here
        detail: str | None = None,  # extra context (never secret)
    ) -> None:
        """Log the event (masked) and call the hook; a failing hook never breaks the operation."""
        level = logging.WARNING if kind is EventKind.DECRYPT_FAILURE else logging.INFO
        if self.config.on_event is None and not log.isEnabledFor(level):
            return  # nobody listens: skip masking and fingerprinting
        masked = mask_key(key) if key else None
        fp = self.keyring.fingerprint(key) if key else None
        event = KeyEvent(kind, provider, user_id, masked, fp, detail)
        log.log(
            level,
            "byok %s provider=%s user=%s key=%s fp=%s %s",
            kind.value,
            provider,
            user_id,
            masked,
            fp,
            detail or "",
        )
        if self.config.on_event is not None:
            try:
                self.config.on_event(event)
            except Exception:
                log.exception("byok on_event hook failed for %s", kind.value)
