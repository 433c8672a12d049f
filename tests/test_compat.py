"""Switching from cjm-fasthtml-byok is an import change: every public name of the reference
exists in byok under the same module path, with the reference's parameters in the same order."""

import importlib
import inspect
import subprocess
import sys

import pytest

MODULES = [
    "core.types",
    "core.security",
    "core.storage",
    "components.alerts",
    "components.forms",
    "middleware.beforeware",
    "utils.helpers",
]


def _public(module: str) -> list[tuple[str, str]]:
    ref = importlib.import_module(f"cjm_fasthtml_byok.{module}")
    return [(module, name) for name in ref.__all__]


NAMES = [pair for m in MODULES for pair in _public(m)]


def _params(obj) -> list[inspect.Parameter]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    p = inspect.Parameter
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    named = (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    return [q for q in sig.parameters.values() if q.name != "self" and q.kind in named]


def test_the_reference_has_many_public_names():
    assert len(NAMES) >= 45


@pytest.mark.parametrize(("module", "name"), NAMES, ids=[f"{m}.{n}" for m, n in NAMES])
def test_every_reference_name_exists_with_compatible_parameters(module, name):
    ref = getattr(importlib.import_module(f"cjm_fasthtml_byok.{module}"), name)
    ours = getattr(importlib.import_module(f"byok.{module}"), name)
    assert inspect.isclass(ref) == inspect.isclass(ours)
    if inspect.isclass(ref) and inspect.isclass(ours) and hasattr(ref, "__dataclass_fields__"):
        assert set(ref.__dataclass_fields__) <= set(ours.__dataclass_fields__)
    if inspect.isclass(ref) and issubclass(ref, Exception):
        assert issubclass(ours, Exception)
        return
    ref_params = [p.name for p in _params(ref)]
    our_params = [p.name for p in _params(ours)]
    assert our_params[: len(ref_params)] == ref_params, f"{name}: {our_params} vs {ref_params}"
    if inspect.isclass(ref):
        methods = [
            m for m, _ in inspect.getmembers(ref, inspect.isfunction) if not m.startswith("_")
        ]
        for m in methods:
            assert hasattr(ours, m), f"{name}.{m} missing"
            rp = [p.name for p in _params(getattr(ref, m))]
            op = [p.name for p in _params(getattr(ours, m))]
            assert op[: len(rp)] == rp, f"{name}.{m}: {op} vs {rp}"


def test_security_warning_is_a_real_warning():
    from byok.core.types import SecurityWarning

    with pytest.warns(SecurityWarning, match="plain HTTP"):
        import warnings

        warnings.warn("plain HTTP", SecurityWarning, stacklevel=1)


def test_import_byok_does_not_import_ipython():
    """byok, its components and helpers import light: no IPython (a dependency's optional extra)."""
    code = "import sys, byok, byok.components, byok.utils.helpers; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
