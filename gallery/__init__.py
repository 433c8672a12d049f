"""The byok gallery: every component in every variant, as stories (`uv run gallery`)."""
