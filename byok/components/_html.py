"""Internal building blocks: fast elements and rendering, slugs, safe URLs and ids.

Components return `Tag`s: real fastcore `FT` elements (tag, children, attrs; composable with
any FastHTML tree) that render themselves through `__ft__` with a small serializer instead of
fastcore's generic one, about 4x faster. Its escaping is the stricter of the two: text gets
`&`, `<`, `>` escaped, every attribute value is double-quoted with `&`, `<`, `>`, `"` and `'`
escaped; children that are not byok elements are rendered by fastcore's own `to_xml`.
Nothing here ever produces JavaScript.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from html import escape
from typing import Any
from urllib.parse import quote

from fastcore.xml import FT, Safe, attrmap, to_xml

from byok.core.providers import safe_url as _check_url
from byok.core.types import PROVIDER_PATTERN

from .classes import CLASSES

__all__ = [
    "FT",
    "Safe",
    "Tag",
    "digest",
    "el",
    "fragment",
    "headers_json",
    "masked",
    "pass_through",
    "path_segment",
    "render",
    "render_once",
    "safe_dom_id",
    "safe_url",
    "slugify",
    "void",
]

_DOM_ID = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,127}")  # ids used as htmx targets
_SLUG_JUNK = re.compile(r"[^a-z0-9_-]+")


class Tag(FT):
    """An FT built by byok; `to_xml` renders it (and its byok children) with `render`."""

    def __ft__(self) -> Safe:
        """What fastcore's to_xml renders in this element's place: its HTML."""
        return Safe(render(self))


_new = object.__new__


def el(
    tag: str,  # element name
    attrs: dict[str, Any],  # final attribute names ('class', 'hx-post', ...) -> values
    *children: Any,  # child elements or text (escaped); None is skipped
) -> Tag:
    """An element; None/False attributes are dropped when rendered, True ones are bare."""
    t = _new(Tag)
    t.__dict__.update(tag=tag, children=children, attrs=attrs, void_=False, listeners_=[])
    return t


def void(
    tag: str,  # void element name (input, ...)
    attrs: dict[str, Any],  # final attribute names -> values
) -> Tag:
    """A void element (no children, no closing tag)."""
    t = _new(Tag)
    t.__dict__.update(tag=tag, children=(), attrs=attrs, void_=True, listeners_=[])
    return t


def _attr_text(value: Any) -> str:
    """An attribute value as text (a Mapping as JSON, like fastcore), before escaping."""
    if isinstance(value, Mapping):
        return json.dumps(value)
    return value.__html__() if hasattr(value, "__html__") else str(value)


# attribute values escaped once: the recipes' class strings, then (bounded) the values of the
# structural attributes the components repeat, ids, URLs and wiring; never a value that can
# carry data (form values, request headers, free text such as labels or messages)
_KNOWN = {v: escape(v) for v in CLASSES.values()}
_KNOWN_MAX = 8192
_STRUCTURAL = frozenset(
    {
        "id", "for", "type", "name", "role", "method", "action", "href", "datetime",
        "hx-get", "hx-post", "hx-delete", "hx-target", "hx-swap", "hx-disabled-elt",
        "aria-labelledby", "aria-describedby", "aria-controls", "aria-live", "aria-hidden",
        "aria-label", "aria-current", "title", "data-byok-card", "data-byok-label",
    }
)  # fmt: skip


def _render(ft: FT, out: list[str]) -> None:
    tag = ft.tag
    attrs = ft.attrs
    if attrs:
        parts = [tag]
        for k, v in attrs.items():
            if v is None or v is False:
                continue
            if v is True:
                parts.append(k)
            else:
                text = v if v.__class__ is str else _attr_text(v)
                done = _KNOWN.get(text)
                if done is None:
                    done = escape(text)
                    if k in _STRUCTURAL and len(text) <= 200 and len(_KNOWN) < _KNOWN_MAX:
                        _KNOWN[text] = done
                parts.append(f'{k}="{done}"')
        out.append(f"<{' '.join(parts)}>")
    else:
        out.append(f"<{tag}>")
    if ft.void_:
        return
    _children(ft.children, out)
    out.append(f"</{tag}>")


def _children(children: Any, out: list[str]) -> None:
    for c in children:
        cls = c.__class__
        if cls is str:
            out.append(escape(c, False))
        elif cls is Tag:
            _render(c, out)
        elif cls is Safe:
            out.append(c)
        elif c is None:
            continue
        elif cls is tuple or cls is list:
            _children(c, out)
        elif isinstance(c, FT) or hasattr(c, "__ft__") or hasattr(c, "__html__"):
            out.append(to_xml(c, indent=False))  # someone else's element: their renderer
        elif isinstance(c, bytes):
            out.append(escape(c.decode("utf-8", "replace"), False))
        else:
            out.append(escape(str(c), False))


def render(
    ft: FT,  # a byok element
) -> str:
    """The element's HTML."""
    out: list[str] = []
    _render(ft, out)
    return "".join(out)


def render_once(
    ft: FT,  # a static element (no caller data)
) -> Safe:
    """Pre-rendered markup of a static element, inserted verbatim by `to_xml` (built once)."""
    return Safe(render(ft))


def fragment(
    build: Callable[..., FT],  # builds an element from hashable arguments only (no secret)
) -> Callable[..., Safe]:
    """`build`'s element rendered once per distinct arguments (a bounded LRU of markup): the
    parts of a component that depend on the provider and the options, not on the key's data."""
    cached = lru_cache(maxsize=1024)(lambda *args: render_once(build(*args)))

    def get(*args: Any) -> Safe:
        try:
            return cached(*args)
        except TypeError:  # an unhashable argument (e.g. a provider_config check with lists)
            return render_once(build(*args))

    get.__doc__ = build.__doc__
    get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return get


@lru_cache(maxsize=1024)
def _checked(url: str, param: str) -> str:
    return _check_url(url, param)


def safe_url(
    url: str,  # a URL given by the app (form action, docs link, ...)
    param: str = "url",  # parameter name, for the error message
) -> str:
    """byok.core.providers.safe_url, remembered for the URLs a page renders again and again."""
    return _checked(url, param) if url.__class__ is str else _check_url(url, param)


def digest(
    *parts: str,  # values the id must depend on
) -> str:
    """8 hex characters of SHA-256 over the parts: stable across processes (unlike hash())."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:8]


_slugs: dict[str, str] = {}  # memo of slugify for valid provider names (bounded by the pattern)


def slugify(
    value: str,  # a provider name or any label
) -> str:
    """An id-safe slug ([a-z0-9_-]): a valid provider name as is, else a cleaned prefix + digest."""
    cached = _slugs.get(value)
    if cached is not None:
        return cached
    value = str(value)
    if PROVIDER_PATTERN.fullmatch(value):
        if len(_slugs) < 4096:
            _slugs[value] = value
        return value
    cleaned = _SLUG_JUNK.sub("-", value.lower()).strip("-_")[:40]
    return f"{cleaned}-{digest(value)}" if cleaned else f"x-{digest(value)}"


def path_segment(
    value: str,  # a value placed in one URL path segment (e.g. a provider name)
) -> str:
    """The value percent-encoded for one path segment ('/' and '..' cannot escape it)."""
    seg = quote(str(value), safe="")
    return seg if seg not in (".", "..") else seg.replace(".", "%2E")


def safe_dom_id(
    value: str,  # an id that htmx will look up as a '#id' selector
    param: str,  # parameter name, for the error message
) -> str:
    """The id if it is a plain identifier (letters, digits, '-', '_'), else ValueError."""
    if not isinstance(value, str) or not _DOM_ID.fullmatch(value):
        raise ValueError(
            f"{param} must start with a letter and contain only letters, digits, '-' or '_'"
        )
    return value


def headers_json(
    csrf_token: str | None,  # CSRF token to send, or None
    csrf_header: str,  # header name carrying it
    extra: Mapping[str, str] | None,  # more headers for htmx requests
) -> str | None:
    """The value of an `hx-headers` attribute (JSON, never `js:`), or None when empty."""
    if not extra and csrf_token.__class__ is str:  # the common case: the token alone
        return _token_header(csrf_header, csrf_token)
    headers: dict[str, str] = {}
    if extra:
        for k, v in extra.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValueError("hx_headers must map header names (str) to values (str)")
            headers[k] = v
    if csrf_token is not None:
        if not isinstance(csrf_token, str):
            raise ValueError("csrf_token must be a string")
        headers[csrf_header] = csrf_token
    if not headers:
        return None
    return json.dumps(headers, ensure_ascii=True, sort_keys=True)


@lru_cache(maxsize=64)  # one token per session, on every card and form of a page
def _token_header(csrf_header: str, csrf_token: str) -> str:
    return json.dumps({csrf_header: csrf_token}, ensure_ascii=True)


def pass_through(
    attrs: dict[str, Any],  # the component's own root attributes ('class' included)
    cls: str,  # classes the caller adds, FastHTML's `cls`
    extra: Mapping[str, Any],  # the caller's other attributes, FastHTML style (hx_get -> hx-get)
) -> dict[str, Any]:
    """The root attributes with the caller's: `cls` appended to the class, the rest set (they
    win); an event-handler attribute is refused (byok never emits inline JavaScript)."""
    if not isinstance(cls, str):
        raise ValueError("cls must be a string of class names")
    if not cls and not extra:
        return attrs
    if cls:
        attrs["class"] = f"{attrs['class']} {cls}" if attrs.get("class") else cls
    for key, value in extra.items():
        name = attrmap(key)
        low = name.lower()
        if low.startswith(("on", "hx-on", "data-hx-on")) or not _ATTR_NAME.fullmatch(name):
            raise ValueError(
                f"attribute {name[:40]!r} is not allowed: byok components carry no inline "
                "JavaScript (use data-* attributes and a script of your own)"
            )
        if name == "class":
            attrs["class"] = f"{attrs['class']} {value}" if attrs.get("class") else value
        else:
            attrs[name] = value
    return attrs


_ATTR_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:.-]{0,63}")  # an attribute name
_MASK_MARKS = ("...", "…", "****", "••••")  # a masked key shows one of these


def masked(
    value: str,  # a key as passed to a component, expected masked
) -> str:
    """The value if it looks masked, else masked here: a component never shows a whole key."""
    value = str(value)
    if len(value) <= 24 and any(mark in value for mark in _MASK_MARKS):
        return value
    from byok.core.security import mask_key

    return mask_key(value)
