"""Class recipes of the byok components, from the cjm_fasthtml_daisyui / Tailwind class builders.

`recipes()` spells every class string with the builders (daisyUI 5 semantic colours only, so
every theme, dark ones included, works). Importing those builder modules costs ~0.9 s and pulls
in IPython, so the strings are computed once, when this file is regenerated, into the `CLASSES`
table below: `uv run python -m byok.components.classes` rewrites it, and a test checks that the
table still equals `recipes()` and that no string contains a builder's repr ("object at 0x").
Components read `CLASSES` at import and never build a class string while rendering.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

__all__ = ["CLASSES", "recipes"]

_KINDS = ("info", "success", "warning", "error")  # AlertKind values
_STYLES = ("soft", "outline", "dash")  # AlertStyle values
_ICON_SIZES = ("3", "4", "5", "6", "8", "10", "12")  # IconSize values
_GAPS = ("0", "1", "2", "3", "4", "6", "8")  # StackSpacing values
_POSITIONS = ("top", "middle", "bottom")  # ToastPosition values
_ALIGNS = ("start", "center", "end")  # ToastAlign values


def recipes() -> dict[str, str]:
    """Every class string, built from the builders (imports them: slow, dev and tests only)."""
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

    # issued keys (byok.components.issued)
    from cjm_fasthtml_daisyui.components.actions.modal import modal, modal_action, modal_box
    from cjm_fasthtml_daisyui.components.data_display.table import table, table_sizes
    from cjm_fasthtml_daisyui.components.data_input.checkbox import checkbox, checkbox_sizes
    from cjm_fasthtml_daisyui.components.data_input.radio import radio, radio_sizes
    from cjm_fasthtml_daisyui.components.navigation.tabs import (
        tab,
        tab_modifiers,
        tabs,
        tabs_sizes,
        tabs_styles,
    )
    from cjm_fasthtml_tailwind.utilities.layout import overflow
    from cjm_fasthtml_tailwind.utilities.svg import fill
    from cjm_fasthtml_tailwind.utilities.typography import whitespace

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
    from cjm_fasthtml_tailwind.utilities.backgrounds import bg
    from cjm_fasthtml_tailwind.utilities.layout import position

    # an inline <dialog open> stays in the page's flow (the browser's own style floats it)
    r["issued.dialog.inline"] = cc(position.static, m(0), p(0), border(0), bg.transparent)
    r["issued.spark"] = cc(flex_display.inline, items.center, gap(2), text_dui.primary)
    r["issued.spark.svg"] = cc(fill.current, stroke.current, shrink._0)
    r["issued.spark.total"] = cc(font_size.xs, muted, whitespace.nowrap)
    return r


# --- generated by `python -m byok.components.classes`; do not edit by hand -------------------
_GENERATED: dict[str, str] = {
    "icon.3": "h-3 w-3 shrink-0 stroke-current",
    "icon.4": "h-4 w-4 shrink-0 stroke-current",
    "icon.5": "h-5 w-5 shrink-0 stroke-current",
    "icon.6": "h-6 w-6 shrink-0 stroke-current",
    "icon.8": "h-8 w-8 shrink-0 stroke-current",
    "icon.10": "h-10 w-10 shrink-0 stroke-current",
    "icon.12": "h-12 w-12 shrink-0 stroke-current",
    "icon.tint.info": "text-info",
    "icon.tint.success": "text-success",
    "icon.tint.warning": "text-warning",
    "icon.tint.error": "text-error",
    "alert.info": "alert alert-info",
    "alert.info.soft": "alert alert-info alert-soft text-base-content",
    "alert.info.outline": "alert alert-info alert-outline text-base-content",
    "alert.info.dash": "alert alert-info alert-dash text-base-content",
    "alert.success": "alert alert-success",
    "alert.success.soft": "alert alert-success alert-soft text-base-content",
    "alert.success.outline": "alert alert-success alert-outline text-base-content",
    "alert.success.dash": "alert alert-success alert-dash text-base-content",
    "alert.warning": "alert alert-warning",
    "alert.warning.soft": "alert alert-warning alert-soft text-base-content",
    "alert.warning.outline": "alert alert-warning alert-outline text-base-content",
    "alert.warning.dash": "alert alert-warning alert-dash text-base-content",
    "alert.error": "alert alert-error",
    "alert.error.soft": "alert alert-error alert-soft text-base-content",
    "alert.error.outline": "alert alert-error alert-outline text-base-content",
    "alert.error.dash": "alert alert-error alert-dash text-base-content",
    "alert.body": "flex flex-col gap-1 min-w-0",
    "alert.title": "font-bold",
    "alert.dismiss": "btn btn-ghost btn-xs btn-square",
    "severity.badge.warning": "badge badge-warning badge-sm ml-2",
    "severity.badge.error": "badge badge-error badge-sm ml-2",
    "severity.badge.info": "badge badge-info badge-sm ml-2",
    "severity.badge.critical": "badge badge-neutral badge-sm ml-2",
    "severity.action.info": "btn btn-info btn-sm mt-2",
    "severity.action.warning": "btn btn-warning btn-sm mt-2",
    "severity.action.error": "btn btn-error btn-sm mt-2",
    "severity.action.critical": "btn btn-neutral btn-sm mt-2",
    "severity.message": "mt-1",
    "toast.top.start": "toast toast-top toast-start z-50",
    "toast.top.center": "toast toast-top toast-center z-50",
    "toast.top.end": "toast toast-top toast-end z-50",
    "toast.middle.start": "toast toast-middle toast-start z-50",
    "toast.middle.center": "toast toast-middle toast-center z-50",
    "toast.middle.end": "toast toast-middle toast-end z-50",
    "toast.bottom.start": "toast toast-bottom toast-start z-50",
    "toast.bottom.center": "toast toast-bottom toast-center z-50",
    "toast.bottom.end": "toast toast-bottom toast-end z-50",
    "validation.valid": "flex items-center gap-1 text-sm mt-1 text-base-content",
    "validation.invalid": "flex items-center gap-1 text-sm mt-1 text-base-content",
    "validation.slot": "text-sm",
    "stack.0": "flex flex-col gap-0",
    "stack.1": "flex flex-col gap-1",
    "stack.2": "flex flex-col gap-2",
    "stack.3": "flex flex-col gap-3",
    "stack.4": "flex flex-col gap-4",
    "stack.6": "flex flex-col gap-6",
    "stack.8": "flex flex-col gap-8",
    "stack.more": "text-sm text-center opacity-70 cursor-pointer hover:opacity-100",
    "form": "flex flex-col gap-4 max-w-md w-full",
    "form.multi": "flex flex-col gap-4 max-w-lg w-full",
    "form.panel": "flex flex-col gap-4 p-6 bg-base-200 rounded-lg border border-base-300",
    "form.inline": "flex items-start gap-2",
    "form.inline.wide": "flex items-start gap-2 w-full",
    "fieldset": "fieldset w-full",
    "fieldset.inline": "fieldset grow-1 min-w-0 py-0",
    "fieldset.legend": "fieldset-legend text-base-content",
    "field.join": "join w-full",
    "field.input": "input join-item w-full font-mono",
    "field.input.sm": "input input-sm join-item grow-1 font-mono",
    "field.toggle": "btn join-item btn-soft btn-square",
    "field.toggle.sm": "btn join-item btn-soft btn-square btn-sm",
    "field.plain": "input w-full",
    "field.select": "select select-md w-full",
    "field.check": "checkbox checkbox-sm",
    "field.help": "text-sm text-base-content/70",
    "field.docs": "link text-sm inline-flex items-center gap-1",
    "sr-only": "sr-only",
    "btn.submit": "btn btn-primary w-full",
    "btn.save": "btn btn-primary btn-sm",
    "btn.save.md": "btn btn-primary",
    "btn.delete": "btn btn-error btn-sm",
    "btn.test": "btn btn-ghost btn-sm",
    "spinner.visible": "loading loading-spinner loading-xs",
    "spinner": "loading loading-spinner loading-xs hidden in-[.htmx-request]:inline-block",
    "card": "card bg-base-100 border border-base-300 shadow-sm w-full",
    "card.body": "card-body gap-3",
    "card.head": "flex items-center justify-between gap-2",
    "card.title": "card-title text-lg text-base-content",
    "card.key": "font-mono text-sm bg-base-200 rounded-md px-2 py-1 break-all",
    "card.meta": "text-sm text-base-content/70",
    "card.actions": "card-actions justify-end items-center flex-wrap gap-2",
    "card.empty": "text-sm text-base-content/70",
    "card.others": "flex flex-col gap-2 mt-1",
    "card.summary": "link link-hover text-sm",
    "form.card": "flex flex-col gap-2 mt-2",
    "badge.empty": "badge badge-ghost badge-sm",
    "badge.stored": "badge badge-success badge-sm",
    "badge.expiring": "badge badge-warning badge-sm",
    "badge.expired": "badge badge-error badge-sm",
    "badge.unreadable": "badge badge-error badge-sm",
    "test.pending": "badge badge-ghost badge-sm gap-1",
    "test.valid": "badge badge-success badge-sm gap-1",
    "test.rejected": "badge badge-error badge-sm gap-1",
    "test.rate_limited": "badge badge-warning badge-sm gap-1",
    "test.unreachable": "badge badge-warning badge-sm gap-1",
    "test.unexpected": "badge badge-warning badge-sm gap-1",
    "test.blocked": "badge badge-error badge-sm gap-1",
    "test.error": "badge badge-warning badge-sm gap-1",
    "dash.root": "w-full",
    "dash.container": "flex flex-col gap-6 max-w-6xl mx-auto p-4 md:p-6",
    "dash.title": "text-2xl font-bold text-base-content",
    "dash.lead": "text-base-content/70 mt-1",
    "dash.grid": "grid grid-cols-1 md:grid-cols-2 lg:grid-cols-3 gap-4",
    "dash.skeleton": "skeleton h-48 w-full",
    "issued.badge.active": "badge badge-success badge-sm whitespace-nowrap",
    "issued.badge.expiring": "badge badge-warning badge-sm whitespace-nowrap",
    "issued.badge.expired": "badge badge-neutral badge-sm whitespace-nowrap",
    "issued.badge.revoked": "badge badge-error badge-sm whitespace-nowrap",
    "issued.scope": "badge badge-outline badge-sm font-mono",
    "issued.scopes": "flex flex-wrap gap-1",
    "issued.root": "flex flex-col gap-3 w-full",
    "issued.head": "flex flex-wrap items-center justify-between gap-2",
    "issued.title": "text-xl font-bold text-base-content",
    "issued.tabs": "tabs tabs-box tabs-sm",
    "issued.tab": "tab text-base-content",
    "issued.tab.active": "tab tab-active",
    "issued.scroll": "overflow-x-auto rounded-box border border-base-300",
    "issued.table": "table table-sm",
    "issued.cell": "whitespace-nowrap",
    "issued.name": "font-semibold",
    "issued.masked": "font-mono text-xs whitespace-nowrap",
    "issued.row.new": "bg-success/10",
    "issued.actions": "flex justify-end items-center gap-1",
    "issued.action": "btn btn-ghost btn-xs",
    "issued.action.danger": "btn btn-outline btn-xs",
    "issued.empty": "p-6 text-center text-base-content/70",
    "issued.pages": "flex flex-wrap items-center justify-between gap-2",
    "issued.pages.info": "text-sm text-base-content/70",
    "issued.pager": "join",
    "issued.page": "join-item btn btn-sm",
    "issued.page.current": "join-item btn btn-sm btn-primary",
    "issued.reveal": "flex flex-col gap-3 p-4 rounded-box border border-success bg-base-100",
    "issued.reveal.title": "text-lg font-bold text-base-content",
    "issued.reveal.field": "input join-item w-full font-mono text-sm",
    "issued.copy": "btn join-item btn-primary",
    "issued.done": "btn btn-outline btn-sm",
    "issued.reveal.foot": "flex flex-wrap items-center gap-3",
    "issued.form.grid": "grid grid-cols-1 md:grid-cols-2 gap-4",
    "issued.form.row": "flex items-end gap-2",
    "issued.number": "input w-32",
    "issued.select": "select w-auto",
    "issued.date": "input w-auto",
    "issued.scope.item": "flex items-start gap-2 py-1 cursor-pointer",
    "issued.scope.check": "checkbox checkbox-sm mt-1",
    "issued.scope.text": "flex flex-col",
    "issued.scope.name": "font-mono text-sm text-base-content",
    "issued.radio": "radio radio-sm",
    "issued.radio.item": "flex items-center gap-2 py-1 cursor-pointer",
    "issued.modal": "modal",
    "issued.modal.box": "modal-box",
    "issued.modal.inline": "flex flex-col gap-3 p-6 max-w-lg rounded-box border border-base-300 bg-base-100 shadow-sm",
    "issued.modal.actions": "modal-action items-center",
    "issued.dialog.inline": "static m-0 p-0 border-0 bg-transparent",
    "issued.spark": "inline-flex items-center gap-2 text-primary",
    "issued.spark.svg": "fill-current stroke-current shrink-0",
    "issued.spark.total": "text-xs text-base-content/70 whitespace-nowrap",
}
# --- end of generated table ------------------------------------------------------------------

CLASSES: Final[Mapping[str, str]] = MappingProxyType(_GENERATED)  # recipe name -> class string

_BLOCK = re.compile(r"(_GENERATED: dict\[str, str\] = )(\{\}|\{\n.*?\n\})", re.S)


def _render_table(table: Mapping[str, str]) -> str:
    """The generated dict literal, one recipe per line."""
    lines = [f"    {json.dumps(k)}: {json.dumps(v)}," for k, v in table.items()]
    return "{\n" + "\n".join(lines) + "\n}"


def regenerate(
    path: Path = Path(__file__),  # this module's source file
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


if __name__ == "__main__":  # pragma: no cover - developer command
    changed = regenerate()
    print("classes.py regenerated" if changed else "classes.py is up to date", file=sys.stderr)
