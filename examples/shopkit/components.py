"""Two components of a shop page: a price tag and a stock badge (daisyUI classes + shopkit.css)."""

from __future__ import annotations

from enum import StrEnum

from fasthtml.common import FT, Del, Div, Span

__all__ = ["PriceTag", "Stock", "StockBadge"]


class Stock(StrEnum):
    """How many of an item are left."""

    IN = "in"
    LOW = "low"
    OUT = "out"


_STOCK = {  # level -> (badge classes, label)
    Stock.IN: ("badge badge-success badge-sm", "In stock"),
    Stock.LOW: ("badge badge-warning badge-sm", "Only a few left"),
    Stock.OUT: ("badge badge-error badge-sm", "Sold out"),
}


def StockBadge(
    level: Stock = Stock.IN,  # whether the item can be ordered
    count: int | None = None,  # items left, shown when given and not sold out
) -> FT:
    """A badge saying whether an item can be ordered."""
    level = Stock(level)
    cls, label = _STOCK[level]
    if count is not None:
        if count < 0:
            raise ValueError("count must be 0 or more")
        label = label if level is Stock.OUT else f"{label}: {count} left"
    return Span(label, cls=cls, data_stock=level.value)


def PriceTag(
    amount: float,  # the price to pay
    currency: str = "EUR",  # ISO 4217 code shown after the amount
    was: float | None = None,  # the price before a sale, struck through when higher
    label: str = "Price",  # the small caption above the amount
) -> FT:
    """A price, with the old one struck through when the item is on sale."""
    if amount < 0 or (was is not None and was < 0):
        raise ValueError("prices must be 0 or more")
    if not currency.isalpha() or len(currency) != 3:
        raise ValueError("currency must be a three-letter code, e.g. 'EUR'")
    parts = [
        Span(label, cls="text-sm text-base-content/70"),
        Span(f"{amount:,.2f} {currency.upper()}", cls="shopkit-amount text-2xl font-bold"),
    ]
    if was is not None and was > amount:
        parts.append(Del(f"{was:,.2f} {currency.upper()}", cls="shopkit-was text-sm"))
    return Div(*parts, cls="flex flex-col gap-1")
