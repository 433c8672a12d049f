"""apikeys-platform's `apikeys.db.session` path: `create_tables(db_url)`, async, safe to re-run.

byok has no SQLAlchemy session factory to hand out (its engine owns its connection), so
`make_session_factory` has no counterpart: use `APIKeyClient(db_url, …)` or `KeyIssuer`.
"""

from ..client import create_tables

__all__ = ["create_tables"]
