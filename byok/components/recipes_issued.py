"""The issued-key components' class recipes (`byok.components.issued`, `issued_table`,
`issued_forms`), part of `byok.components.recipes` (dev and tests only)."""

from __future__ import annotations

from cjm_fasthtml_daisyui.components.actions.button import (
    btn,
    btn_colors,
    btn_sizes,
    btn_styles,
)
from cjm_fasthtml_daisyui.components.actions.modal import modal, modal_action, modal_box
from cjm_fasthtml_daisyui.components.data_display.badge import (
    badge,
    badge_colors,
    badge_sizes,
    badge_styles,
)
from cjm_fasthtml_daisyui.components.data_display.table import table, table_sizes
from cjm_fasthtml_daisyui.components.data_input.checkbox import checkbox, checkbox_sizes
from cjm_fasthtml_daisyui.components.data_input.radio import radio, radio_sizes
from cjm_fasthtml_daisyui.components.data_input.select import select
from cjm_fasthtml_daisyui.components.data_input.text_input import (
    text_input,
)
from cjm_fasthtml_daisyui.components.layout.join import join, join_item
from cjm_fasthtml_daisyui.components.navigation.tabs import (
    tab,
    tab_modifiers,
    tabs,
    tabs_sizes,
    tabs_styles,
)
from cjm_fasthtml_daisyui.utilities.semantic_colors import bg_dui, border_dui, text_dui
from cjm_fasthtml_tailwind.core.base import combine_classes as cc
from cjm_fasthtml_tailwind.utilities.backgrounds import bg
from cjm_fasthtml_tailwind.utilities.borders import border, rounded
from cjm_fasthtml_tailwind.utilities.effects import shadow
from cjm_fasthtml_tailwind.utilities.flexbox_and_grid import (
    flex_direction,
    flex_display,
    flex_wrap,
    gap,
    grid_cols,
    grid_display,
    items,
    justify,
    shrink,
)
from cjm_fasthtml_tailwind.utilities.interactivity import cursor
from cjm_fasthtml_tailwind.utilities.layout import overflow, position
from cjm_fasthtml_tailwind.utilities.sizing import max_w, w
from cjm_fasthtml_tailwind.utilities.spacing import m, p
from cjm_fasthtml_tailwind.utilities.svg import fill, stroke
from cjm_fasthtml_tailwind.utilities.typography import (
    font_family,
    font_size,
    font_weight,
    text_align,
    whitespace,
)

__all__ = ["issued_recipes"]


def issued_recipes() -> dict[str, str]:
    """The issued keys' class strings, in table order."""
    r: dict[str, str] = {}
    muted = text_dui.base_content.opacity(70)

    # issued keys (byok.components.issued)

    for status, color in (
        ("active", badge_colors.success),
        ("expiring", badge_colors.warning),
        ("expired", badge_colors.neutral),
        ("revoked", badge_colors.error),
    ):
        r[f"issued.badge.{status}"] = cc(badge, color, badge_sizes.sm, whitespace.nowrap)
    r["issued.scope"] = cc(badge, badge_styles.outline, badge_sizes.sm, font_family.mono)
    r["issued.scopes"] = cc(flex_display, flex_wrap.wrap, gap(1))
    r["issued.root"] = cc(flex_display, flex_direction.col, gap(3), w.full)
    r["issued.head"] = cc(flex_display, flex_wrap.wrap, items.center, justify.between, gap(2))
    r["issued.title"] = cc(font_size.xl, font_weight.bold, text_dui.base_content)
    r["issued.tabs"] = cc(tabs, tabs_styles.box, tabs_sizes.sm)
    r["issued.tab"] = cc(tab, text_dui.base_content)  # daisyUI dims inactive tabs below AA
    r["issued.tab.active"] = cc(tab, tab_modifiers.active)
    r["issued.scroll"] = cc(overflow.x.auto, rounded.box, border(), border_dui.base_300)
    r["issued.table"] = cc(table, table_sizes.sm)
    r["issued.cell"] = cc(whitespace.nowrap)
    r["issued.name"] = cc(font_weight.semibold)
    r["issued.masked"] = cc(font_family.mono, font_size.xs, whitespace.nowrap)
    r["issued.row.new"] = cc(bg_dui.success.opacity(10))
    r["issued.actions"] = cc(flex_display, justify.end, items.center, gap(1))
    r["issued.action"] = cc(btn, btn_styles.ghost, btn_sizes.xs)
    r["issued.action.danger"] = cc(btn, btn_styles.outline, btn_sizes.xs)  # red text fails AA
    r["issued.empty"] = cc(p(6), text_align.center, muted)
    r["issued.pages"] = cc(flex_display, flex_wrap.wrap, items.center, justify.between, gap(2))
    r["issued.pages.info"] = cc(font_size.sm, muted)
    r["issued.pager"] = cc(join)
    r["issued.page"] = cc(join_item, btn, btn_sizes.sm)
    r["issued.page.current"] = cc(join_item, btn, btn_sizes.sm, btn_colors.primary)
    r["issued.reveal"] = cc(
        flex_display,
        flex_direction.col,
        gap(3),
        p(4),
        rounded.box,
        border(),
        border_dui.success,
        bg_dui.base_100,
    )
    r["issued.reveal.title"] = cc(font_size.lg, font_weight.bold, text_dui.base_content)
    r["issued.reveal.field"] = cc(text_input, join_item, w.full, font_family.mono, font_size.sm)
    r["issued.copy"] = cc(btn, join_item, btn_colors.primary)
    r["issued.done"] = cc(btn, btn_styles.outline, btn_sizes.sm)
    r["issued.reveal.foot"] = cc(flex_display, flex_wrap.wrap, items.center, gap(3))
    r["issued.form.grid"] = cc(grid_display, grid_cols(1), grid_cols(2).md, gap(4))
    r["issued.form.row"] = cc(flex_display, items.end, gap(2))
    r["issued.number"] = cc(text_input, w(32))
    r["issued.select"] = cc(select, w.auto)
    r["issued.date"] = cc(text_input, w.auto)
    r["issued.scope.item"] = cc(flex_display, items.start, gap(2), p.y(1), cursor.pointer)
    r["issued.scope.check"] = cc(checkbox, checkbox_sizes.sm, m.t(1))
    r["issued.scope.text"] = cc(flex_display, flex_direction.col)
    r["issued.scope.name"] = cc(font_family.mono, font_size.sm, text_dui.base_content)
    r["issued.radio"] = cc(radio, radio_sizes.sm)
    r["issued.radio.item"] = cc(flex_display, items.center, gap(2), p.y(1), cursor.pointer)
    r["issued.modal"] = cc(modal)
    r["issued.modal.box"] = cc(modal_box)
    r["issued.modal.inline"] = cc(
        flex_display,
        flex_direction.col,
        gap(3),
        p(6),
        max_w.lg,
        rounded.box,
        border(),
        border_dui.base_300,
        bg_dui.base_100,
        shadow.sm,
    )
    r["issued.modal.actions"] = cc(modal_action, items.center)

    # an inline <dialog open> stays in the page's flow (the browser's own style floats it)
    r["issued.dialog.inline"] = cc(position.static, m(0), p(0), border(0), bg.transparent)
    r["issued.spark"] = cc(flex_display.inline, items.center, gap(2), text_dui.primary)
    r["issued.spark.svg"] = cc(fill.current, stroke.current, shrink._0)
    r["issued.spark.total"] = cc(font_size.xs, muted, whitespace.nowrap)
    return r
