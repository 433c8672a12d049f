"""Stories of shopkit's two components."""

from byok_gallery import ExpectAttribute, ExpectText, ExpectVisible, Story, Text

from ..components import PriceTag, Stock, StockBadge

ORDER = 1

STORIES = [
    Story(PriceTag, "Regular", {"amount": 24.0}, group="Shop"),
    Story(
        PriceTag,
        "On sale",
        {"amount": 19.5, "was": 24.0, "label": "Sale price"},
        group="Shop",
        description="The old price is struck through when it is higher than the new one.",
        play=[  # run by the Interactions panel and by `assert_play_passes` in pytest
            ExpectText(".shopkit-amount", "19.50 EUR"),
            ExpectVisible(Text("24.00 EUR")),
            ExpectAttribute("del", "class", "shopkit-was text-sm"),
        ],
    ),
    Story(PriceTag, "In dollars", {"amount": 1299.99, "currency": "USD"}, group="Shop"),
    *[Story(StockBadge, level.name.title(), {"level": level}, group="Shop") for level in Stock],
    Story(StockBadge, "Low, with count", {"level": Stock.LOW, "count": 3}, group="Shop"),
]
