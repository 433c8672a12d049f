"""Issued-key UI rows (information only: apikeys-platform has no UI): IssuedKeyTable over 50 real
APIKey records, all on one page and as a 20-row page with 30-day usage sparklines.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from fastcore.xml import to_xml

from bench import Row

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # fixed: the same HTML every call
KEYS = 50  # keys of one user


def _keys() -> list:
    from byok.issuing import APIKey, KeyMetadata, RateLimit

    out = []
    for i in range(KEYS):
        meta = KeyMetadata(
            name=f"Service {i}",
            scopes=["notes:read", "notes:write"][: 1 + i % 2],
            rate_limit=RateLimit(600) if i % 3 == 0 else None,
            expires_at=NOW + timedelta(days=i - 10) if i % 4 == 0 else None,
        )
        out.append(
            APIKey(
                f"0b5e7f2a-0000-4000-8000-{i:012d}",
                "6f1c2d3e-0000-4000-8000-00000000a11c",
                None,
                None,
                f"AbCd{i:04d}",
                meta,
                NOW - timedelta(days=1) if i % 7 == 0 else None,
                NOW - timedelta(days=i),
                NOW - timedelta(hours=i) if i % 2 else None,
                i,
            )
        )
    return out


def rows() -> list[Row]:
    """The IssuedKeyTable rows (no reference: shown for information)."""
    from byok.components import IssuedKeyTable

    keys = _keys()
    usage = {k.id: [(i * 7 + n) % 13 for n in range(30)] for i, k in enumerate(keys)}
    return [
        Row(
            f"render IssuedKeyTable ({KEYS} keys, one page)",
            lambda: to_xml(IssuedKeyTable(keys, per_page=KEYS, key_head="sk_live_", now=NOW)),
            None,
            math.inf,
        ),
        Row(
            f"render IssuedKeyTable ({KEYS} keys, page of 20 with usage)",
            lambda: to_xml(
                IssuedKeyTable(keys, per_page=20, key_head="sk_live_", usage=usage, now=NOW)
            ),
            None,
            math.inf,
        ),
    ]
