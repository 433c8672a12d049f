"""Editable installs only (never shipped): `byok_gallery.X`, the gallery's name in the wheel, is
the checkout's `gallery.X` module itself (one module object under two names, not a copy)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

WHEEL, CHECKOUT = "byok_gallery", "gallery"


class _Alias:
    """A meta path finder and loader answering `byok_gallery[.X]` with `gallery[.X]`."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != WHEEL and not name.startswith(WHEEL + "."):
            return None
        real = CHECKOUT + name[len(WHEEL) :]
        try:
            if importlib.util.find_spec(real) is None:
                return None
        except ImportError:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec: Any) -> Any:
        return importlib.import_module(CHECKOUT + spec.name[len(WHEEL) :])

    def exec_module(self, module: Any) -> None:
        """Nothing to run: the real module is already executed."""


if not any(isinstance(f, _Alias) for f in sys.meta_path):
    sys.meta_path.insert(0, _Alias())  # first: before the path finder loads a second copy
