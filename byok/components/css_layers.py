"""Unlayer a Tailwind 4 build so its components win over a class-less stylesheet (Pico CSS).

Tailwind 4 and daisyUI 5 put every rule in a cascade layer (`@layer base`, `@layer utilities`,
daisyUI's `daisyui.l1.l2.l3` inside it). Unlayered rules beat every layered rule, whatever their
specificity, so FastHTML's default Pico CSS (unlayered: `button {…}`, `input:not(…) {…}`,
`svg:not(:root) {…}`) would restyle byok's buttons, inputs and icons. `unlayer()` takes the rules
of the chosen layers out of their layers, in the layers' own order (lowest first), and gives the
rules of the n-th of them n id-level points of specificity (`:not(#\\#)` ancestors, which match
every element below `<html>`): a later layer still beats an earlier one whatever the selectors, as
with layers, and every one of them beats a stylesheet without id selectors (Pico has none). With a
`scope` (byok's classes), elements inside byok's components also get back, for every property no
component rule sets, the layered value (`all: revert-layer`) instead of Pico's. The
layers left alone (Tailwind's theme variables, its preflight, daisyUI's themes) stay layered, so
the page around the components keeps the app's own look.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "BOOST",
    "Block",
    "Rule",
    "boost_selector",
    "parse",
    "scoped_revert",
    "serialize",
    "unlayer",
]

BOOST = ":not(#\\#)"  # one id-level point of specificity: matches any element but <html>
# inside the scope, every property back to its layered value (custom properties stay)
REVERT_SELECTOR = "&,& *,&::before,&::after,& *::before,& *::after"
_ROOT_PREFIXES = (":root", "html", ":host")  # selectors of the root element: boosted in place


@dataclass
class Rule:
    """A qualified rule (`selector{declarations}`) or a statement (`@layer a,b;`)."""

    prelude: str  # the selector list, or the whole statement
    body: str | None  # the declarations between the braces; None for a statement


@dataclass
class Block:
    """An at-rule with a block of rules: `@layer x{…}`, `@media …{…}`, `@supports …{…}`."""

    prelude: str  # "@layer utilities", "@media (hover:hover)", …
    children: list[Rule | Block] = field(default_factory=list)  # the rules inside, in order


Node = Rule | Block
_OPAQUE = ("@keyframes", "@property", "@font-face", "@page", "@counter-style", "@-webkit-keyframes")


def _skip(text: str, i: int) -> int:
    """The index past a string or comment starting at i (i itself when none starts there)."""
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        return len(text) if end < 0 else end + 2
    if text[i] in "\"'":
        quote, j = text[i], i + 1
        while j < len(text) and text[j] != quote:
            j += 2 if text[j] == "\\" else 1
        return j + 1
    return i


def _match(text: str, i: int) -> int:
    """The index of the `}` closing the `{` at i."""
    depth, j = 0, i
    while j < len(text):
        k = _skip(text, j)
        if k != j:
            j = k
            continue
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise ValueError("unbalanced braces in the stylesheet")


def parse(
    text: str,  # a stylesheet (minified or not; no CSS nesting in qualified rules)
) -> list[Node]:
    """The stylesheet's top-level rules and blocks (comments dropped, except `/*! … */`)."""
    nodes: list[Node] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text.startswith("/*", i):
            end = _skip(text, i)
            if text.startswith("/*!", i):  # a licence banner is kept
                nodes.append(Rule(text[i:end], None))
            i = end
            continue
        j = i
        while j < len(text) and text[j] not in "{;":
            k = _skip(text, j)
            j = k if k != j else j + 1
        prelude = text[i:j].strip()
        if j >= len(text) or text[j] == ";":
            nodes.append(Rule(prelude + ";", None))
            i = j + 1
            continue
        end = _match(text, j)
        inner = text[j + 1 : end]
        if prelude.startswith("@") and not prelude.startswith(_OPAQUE):
            nodes.append(Block(prelude, parse(inner)))
        else:
            nodes.append(Rule(prelude, inner))
        i = end + 1
    return nodes


def serialize(
    nodes: Iterable[Node],  # rules and blocks
) -> str:
    """The nodes as minified CSS text."""
    out = []
    for n in nodes:
        if isinstance(n, Block):
            out.append(f"{n.prelude}{{{serialize(n.children)}}}")
        elif n.body is None:
            out.append(n.prelude)
        else:
            out.append(f"{n.prelude}{{{n.body}}}")
    return "".join(out)


def _split(selectors: str) -> list[str]:
    """A selector list split at its top-level commas."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(selectors):
        k = _skip(selectors, i)
        if k != i:
            i = k
            continue
        c = selectors[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "\\":
            i += 1
        elif c == "," and depth == 0:
            parts.append(selectors[start:i].strip())
            start = i + 1
        i += 1
    parts.append(selectors[start:].strip())
    return parts


def _first_compound_end(selector: str) -> int:
    """Where the selector's first compound ends (a combinator, a pseudo-element, or the end)."""
    depth, i = 0, 0
    while i < len(selector):
        c = selector[i]
        if c == "\\":
            i += 2
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0 and (c in " >+~" or selector.startswith("::", i)):
            return i
        i += 1
    return i


def boost_selector(
    selectors: str,  # a selector list
    points: int,  # id-level points to add to each selector
) -> str:
    """The selector list with `points` ids of specificity added to each selector, matching the
    same elements (the root element's selectors get them on the root, the others an ancestor)."""
    if points <= 0:
        return selectors
    boost = BOOST * points
    out = []
    for s in _split(selectors):
        if s.startswith(_ROOT_PREFIXES) and (
            len(s) == len(p := next(x for x in _ROOT_PREFIXES if s.startswith(x)))
            or not (s[len(p)].isalnum() or s[len(p)] in "-_")
        ):
            end = _first_compound_end(s)
            out.append(s[:end] + boost + s[end:])
        else:
            out.append(f"{boost} {s}")
    return ",".join(out)


def _layer_names(prelude: str) -> list[str] | None:
    """The names of an `@layer` block's layer (["daisyui", "l1"]), None for other at-rules."""
    if not prelude.startswith("@layer"):
        return None
    return prelude[len("@layer") :].strip().split(".")


@dataclass
class _Layer:
    """One cascade layer: its sublayers in order and its own rules (with their wrappers)."""

    name: str  # its full dotted name
    sublayers: dict[str, _Layer] = field(default_factory=dict)  # by short name, in order
    rules: list[tuple[tuple[str, ...], Node]] = field(default_factory=list)  # (wrappers, node)

    def child(self, name: str) -> _Layer:
        if name not in self.sublayers:
            full = f"{self.name}.{name}" if self.name else name
            self.sublayers[name] = _Layer(full)
        return self.sublayers[name]

    def ordered(self) -> Iterator[_Layer]:
        """This layer and its sublayers, lowest precedence first (sublayers before own rules)."""
        for sub in self.sublayers.values():
            yield from sub.ordered()
        yield self


def _collect(nodes: list[Node], layer: _Layer, wrappers: tuple[str, ...]) -> None:
    for n in nodes:
        names = _layer_names(n.prelude) if isinstance(n, Block) else None
        if isinstance(n, Block) and names is not None:
            target = layer
            for name in names:
                target = target.child(name)
            _collect(n.children, target, wrappers)
        elif isinstance(n, Block):
            _collect(n.children, layer, (*wrappers, n.prelude))
        elif n.body is None and n.prelude.startswith("@layer"):
            for name in n.prelude[len("@layer") : -1].split(","):
                target = layer
                for part in name.strip().split("."):
                    target = target.child(part)
        else:
            layer.rules.append((wrappers, n))


def _wrap(items: list[tuple[tuple[str, ...], Node]]) -> list[Node]:
    """Rules with their wrappers as blocks again (consecutive rules sharing a wrapper merged)."""
    out: list[Node] = []
    for wrappers, node in items:
        target = out
        for prelude in wrappers:
            last = target[-1] if target else None
            if not (isinstance(last, Block) and last.prelude == prelude):
                last = Block(prelude)
                target.append(last)
            target = last.children
        target.append(node)
    return out


def _as_layer(layer: _Layer) -> list[Node]:
    """A layer's rules and sublayers as nested `@layer` blocks again (order kept)."""
    out: list[Node] = []
    for sub in layer.sublayers.values():
        out.append(Block(f"@layer {sub.name.rsplit('.', 1)[-1]}", _as_layer(sub)))
    out.extend(_wrap(layer.rules))
    return out


def _boosted(node: Node, points: int) -> Node:
    """A qualified rule with its selectors boosted (an at-rule such as @keyframes as it is)."""
    if isinstance(node, Rule) and node.body is not None and not node.prelude.startswith("@"):
        return Rule(boost_selector(node.prelude, points), node.body)
    return node


def scoped_revert(
    scope: tuple[str, ...],  # classes whose elements (and everything in them) are byok's
) -> Block:
    """Inside elements with one of `scope`'s classes, every property Pico-like unlayered CSS
    sets goes back to the layered value (`all: revert-layer`: Tailwind's preflight, daisyUI's
    base; presentational hints such as an svg path's `d` stay), with one id of specificity: it
    beats a class-less stylesheet's element rules there and loses to every component rule."""
    where = BOOST + " :where(" + ",".join("." + _escape(c) for c in scope) + ")"
    return Block(where, [Rule(REVERT_SELECTOR, "all:revert-layer")])


def _escape(name: str) -> str:
    """A class name as a CSS identifier (Tailwind's `/`, `:`, `[`, `.` escaped)."""
    return "".join(c if c.isalnum() or c in "-_" else "\\" + c for c in name)


def unlayer(
    css: str,  # a Tailwind 4 build
    layers: tuple[str, ...] = ("components", "utilities"),  # top-level layers to take out
    scope: tuple[str, ...] = (),  # classes inside which preflight also beats unlayered CSS
) -> str:
    """The stylesheet with `layers` (and their sublayers) unlayered and boosted by rank, and,
    with a `scope`, the layered values restored inside it over a class-less stylesheet."""
    root = _Layer("")
    _collect(parse(css), root, ())
    banner = [(w, n) for w, n in root.rules if isinstance(n, Rule) and n.prelude.startswith("/*")]
    own = [
        (w, n) for w, n in root.rules if not (isinstance(n, Rule) and n.prelude.startswith("/*"))
    ]
    head = [n for _, n in banner]
    names = list(root.sublayers)
    layered = [n for n in names if n not in layers]
    out: list[Node] = [*head, Rule(f"@layer {','.join(layered)};", None)] if layered else [*head]
    for name in layered:
        if inner := _as_layer(root.sublayers[name]):
            out.append(Block(f"@layer {name}", inner))
    rank = 0
    if scope:
        rank += 1
        out.append(scoped_revert(scope))
    for name in names:
        if name not in layers:
            continue
        for sub in root.sublayers[name].ordered():
            if not sub.rules:
                continue
            rank += 1
            boosted = [(w, _boosted(n, rank)) for w, n in sub.rules]
            out.extend(_wrap(boosted))
    out.extend(_wrap(own))
    return serialize(out)
