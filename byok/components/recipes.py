"""How every class string of `byok.components.classes.CLASSES` is spelled, with the
cjm_fasthtml_daisyui / Tailwind class builders (dev and tests only: importing the builders takes
~0.9 s and pulls in IPython; the components read the generated table instead).

`uv run python -m byok.components.recipes` rewrites the table in classes.py from `recipes()`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from cjm_fasthtml_daisyui.components.actions.button import (
    btn,
    btn_colors,
    btn_modifiers,
    btn_sizes,
    btn_styles,
)
from cjm_fasthtml_daisyui.components.data_display.badge import (
    badge,
    badge_colors,
    badge_sizes,
    badge_styles,
)
from cjm_fasthtml_daisyui.components.data_display.card import (
    card,
    card_actions,
    card_body,
    card_title,
)
from cjm_fasthtml_daisyui.components.data_input.checkbox import checkbox, checkbox_sizes
from cjm_fasthtml_daisyui.components.data_input.fieldset import fieldset, fieldset_legend
from cjm_fasthtml_daisyui.components.data_input.select import select, select_sizes
from cjm_fasthtml_daisyui.components.data_input.text_input import (
    text_input,
    text_input_sizes,
)
from cjm_fasthtml_daisyui.components.feedback.alert import alert, alert_colors, alert_styles
from cjm_fasthtml_daisyui.components.feedback.loading import (
    loading,
    loading_sizes,
    loading_styles,
)
from cjm_fasthtml_daisyui.components.feedback.skeleton import skeleton
from cjm_fasthtml_daisyui.components.feedback.toast import toast, toast_placement
from cjm_fasthtml_daisyui.components.layout.join import join, join_item
from cjm_fasthtml_daisyui.components.navigation.link import link, link_styles
from cjm_fasthtml_daisyui.utilities.semantic_colors import bg_dui, border_dui, text_dui
from cjm_fasthtml_tailwind.core.base import combine_classes as cc
from cjm_fasthtml_tailwind.utilities.accessibility import sr_only
from cjm_fasthtml_tailwind.utilities.borders import border, rounded
from cjm_fasthtml_tailwind.utilities.effects import opacity, shadow
from cjm_fasthtml_tailwind.utilities.flexbox_and_grid import (
    flex_direction,
    flex_display,
    flex_wrap,
    gap,
    grid_cols,
    grid_display,
    grow,
    items,
    justify,
    shrink,
)
from cjm_fasthtml_tailwind.utilities.interactivity import cursor
from cjm_fasthtml_tailwind.utilities.layout import display_tw, z
from cjm_fasthtml_tailwind.utilities.sizing import h, max_w, min_w, w
from cjm_fasthtml_tailwind.utilities.spacing import m, p
from cjm_fasthtml_tailwind.utilities.svg import stroke
from cjm_fasthtml_tailwind.utilities.typography import (
    break_all,
    font_family,
    font_size,
    font_weight,
    text_align,
)

from .recipes_issued import issued_recipes

__all__ = ["recipes", "regenerate"]

_KINDS = ("info", "success", "warning", "error")  # AlertKind values
_STYLES = ("soft", "outline", "dash")  # AlertStyle values
_ICON_SIZES = ("3", "4", "5", "6", "8", "10", "12")  # IconSize values
_GAPS = ("0", "1", "2", "3", "4", "6", "8")  # StackSpacing values
_POSITIONS = ("top", "middle", "bottom")  # ToastPosition values
_ALIGNS = ("start", "center", "end")  # ToastAlign values
CLASSES_PATH = Path(__file__).with_name("classes.py")  # the module holding the generated table


def recipes() -> dict[str, str]:
    """Every class string, built from the builders: the key components', then the issued keys'."""

    r: dict[str, str] = {}
    muted = text_dui.base_content.opacity(70)

    # icons
    for size in _ICON_SIZES:
        r[f"icon.{size}"] = cc(h(size), w(size), shrink._0, stroke.current)
    for kind in _KINDS:
        r[f"icon.tint.{kind}"] = str(getattr(text_dui, kind))

    # alerts
    for kind in _KINDS:
        r[f"alert.{kind}"] = cc(alert, getattr(alert_colors, kind))
        for style in _STYLES:
            # tinted styles keep the text in base-content: the kind colours on a light
            # background fail WCAG contrast; the icon carries the colour instead
            r[f"alert.{kind}.{style}"] = cc(
                alert,
                getattr(alert_colors, kind),
                getattr(alert_styles, style),
                text_dui.base_content,
            )
    r["alert.body"] = cc(flex_display, flex_direction.col, gap(1), min_w(0))
    r["alert.title"] = cc(font_weight.bold)
    r["alert.dismiss"] = cc(btn, btn_styles.ghost, btn_sizes.xs, btn_modifiers.square)
    r["severity.badge.warning"] = cc(badge, badge_colors.warning, badge_sizes.sm, m.l(2))
    r["severity.badge.error"] = cc(badge, badge_colors.error, badge_sizes.sm, m.l(2))
    r["severity.badge.info"] = cc(badge, badge_colors.info, badge_sizes.sm, m.l(2))
    r["severity.badge.critical"] = cc(badge, badge_colors.neutral, badge_sizes.sm, m.l(2))
    for kind in ("info", "warning", "error"):
        r[f"severity.action.{kind}"] = cc(btn, getattr(btn_colors, kind), btn_sizes.sm, m.t(2))
    r["severity.action.critical"] = cc(btn, btn_colors.neutral, btn_sizes.sm, m.t(2))
    r["severity.message"] = cc(m.t(1))

    # toasts
    for pos in _POSITIONS:
        for align in _ALIGNS:
            r[f"toast.{pos}.{align}"] = cc(
                toast, getattr(toast_placement, pos), getattr(toast_placement, align), z(50)
            )

    # validation
    base = (flex_display, items.center, gap(1), font_size.sm, m.t(1))
    r["validation.valid"] = cc(*base, text_dui.base_content)  # the icon is tinted
    r["validation.invalid"] = cc(*base, text_dui.base_content)
    r["validation.slot"] = cc(font_size.sm)

    # alert stack
    for g in _GAPS:
        r[f"stack.{g}"] = cc(flex_display, flex_direction.col, gap(g))
    r["stack.more"] = cc(
        font_size.sm, text_align.center, opacity._70, cursor.pointer, opacity._100.hover
    )

    # forms and fields
    r["form"] = cc(flex_display, flex_direction.col, gap(4), max_w.md, w.full)
    r["form.multi"] = cc(flex_display, flex_direction.col, gap(4), max_w.lg, w.full)
    r["form.panel"] = cc(
        flex_display,
        flex_direction.col,
        gap(4),
        p(6),
        bg_dui.base_200,
        rounded.lg,
        border(),
        border_dui.base_300,
    )
    r["form.inline"] = cc(flex_display, items.start, gap(2))
    r["form.inline.wide"] = cc(flex_display, items.start, gap(2), w.full)
    r["fieldset"] = cc(fieldset, w.full)
    r["fieldset.inline"] = cc(fieldset, grow(), min_w(0), p.y(0))
    r["fieldset.legend"] = cc(fieldset_legend, text_dui.base_content)
    r["field.join"] = cc(join, w.full)
    r["field.input"] = cc(text_input, join_item, w.full, font_family.mono)
    r["field.input.sm"] = cc(text_input, text_input_sizes.sm, join_item, grow(), font_family.mono)
    r["field.toggle"] = cc(btn, join_item, btn_styles.soft, btn_modifiers.square)
    r["field.toggle.sm"] = cc(btn, join_item, btn_styles.soft, btn_modifiers.square, btn_sizes.sm)
    r["field.plain"] = cc(text_input, w.full)
    r["field.check"] = cc(checkbox, checkbox_sizes.sm)
    r["field.select"] = cc(select, select_sizes.md, w.full)
    r["field.help"] = cc(font_size.sm, muted)
    r["field.docs"] = cc(link, font_size.sm, flex_display.inline, items.center, gap(1))
    r["sr-only"] = cc(sr_only)
    r["btn.submit"] = cc(btn, btn_colors.primary, w.full)
    r["btn.save"] = cc(btn, btn_colors.primary, btn_sizes.sm)
    r["btn.save.md"] = cc(btn, btn_colors.primary)
    r["btn.delete"] = cc(btn, btn_colors.error, btn_sizes.sm)
    r["btn.test"] = cc(btn, btn_styles.ghost, btn_sizes.sm)
    r["spinner.visible"] = cc(loading, loading_styles.spinner, loading_sizes.xs)
    # hidden (taking no room) until an ancestor carries htmx's request class
    r["spinner"] = cc(r["spinner.visible"], display_tw.hidden) + " in-[.htmx-request]:inline-block"

    # key cards
    r["card"] = cc(card, bg_dui.base_100, border(), border_dui.base_300, shadow.sm, w.full)
    r["card.body"] = cc(card_body, gap(3))
    r["card.head"] = cc(flex_display, items.center, justify.between, gap(2))
    r["card.title"] = cc(card_title, font_size.lg, text_dui.base_content)
    r["card.key"] = cc(
        font_family.mono, font_size.sm, bg_dui.base_200, rounded.md, p.x(2), p.y(1), break_all
    )
    r["card.meta"] = cc(font_size.sm, muted)
    r["card.actions"] = cc(card_actions, justify.end, items.center, flex_wrap.wrap, gap(2))
    r["card.empty"] = cc(font_size.sm, muted)
    r["card.others"] = cc(flex_display, flex_direction.col, gap(2), m.t(1))
    r["card.summary"] = cc(link, link_styles.hover, font_size.sm)
    r["form.card"] = cc(flex_display, flex_direction.col, gap(2), m.t(2))
    for state, color in (
        ("empty", badge_styles.ghost),
        ("stored", badge_colors.success),
        ("expiring", badge_colors.warning),
        ("expired", badge_colors.error),
        ("unreadable", badge_colors.error),
    ):
        r[f"badge.{state}"] = cc(badge, color, badge_sizes.sm)  # filled: readable in every theme
    for state, color in (
        ("pending", badge_styles.ghost),
        ("valid", badge_colors.success),
        ("rejected", badge_colors.error),
        ("rate_limited", badge_colors.warning),
        ("unreachable", badge_colors.warning),
        ("unexpected", badge_colors.warning),
        ("blocked", badge_colors.error),
        ("error", badge_colors.warning),
    ):
        r[f"test.{state}"] = cc(badge, color, badge_sizes.sm, gap(1))

    # dashboard
    r["dash.root"] = cc(w.full)
    r["dash.container"] = cc(
        flex_display, flex_direction.col, gap(6), max_w._6xl, m.x.auto, p(4), p(6).md
    )
    r["dash.title"] = cc(font_size._2xl, font_weight.bold, text_dui.base_content)
    r["dash.lead"] = cc(muted, m.t(1))
    r["dash.grid"] = cc(grid_display, grid_cols(1), grid_cols(2).md, grid_cols(3).lg, gap(4))
    r["dash.skeleton"] = cc(skeleton, h(48), w.full)

    r.update(issued_recipes())
    return r


_BLOCK = re.compile(r"(_GENERATED: dict\[str, str\] = )(\{\}|\{\n.*?\n\})", re.S)


def _render_table(table: Mapping[str, str]) -> str:
    """The generated dict literal, one recipe per line."""
    lines = [f"    {json.dumps(k)}: {json.dumps(v)}," for k, v in table.items()]
    return "{\n" + "\n".join(lines) + "\n}"


def regenerate(
    path: Path = CLASSES_PATH,  # the source file holding the generated table
) -> bool:
    """Rewrite the generated table from `recipes()`; True when the file changed."""
    source = path.read_text()
    table = _render_table(recipes())
    new, n = _BLOCK.subn(lambda m: m.group(1) + table, source, count=1)
    if n != 1:
        raise RuntimeError("generated table marker not found")
    if new == source:
        return False
    path.write_text(new)
    return True


def main() -> None:
    """The developer command: regenerate the table and say whether it changed."""
    changed = regenerate()
    print("classes.py regenerated" if changed else "classes.py is up to date", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover - developer command
    main()
