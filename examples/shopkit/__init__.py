"""shopkit: a tiny component package of a FastHTML app, shown in the byok gallery.

    uv run gallery --stories examples.shopkit.stories --css examples/shopkit/shopkit.css

`components.py` holds two components (`PriceTag`, `StockBadge`), `stories/` their stories,
`shopkit.css` the few styles byok.css does not have; tests/test_own_stories.py snapshots them.
"""
