"""hatch build hook (never shipped): an editable install of the checkout also answers to the
gallery's wheel name, `byok_gallery`, through `_editable_alias.py` and a .pth that imports it."""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class EditableAlias(BuildHookInterface):
    """Add the alias module and its .pth to editable wheels only."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """For `version == "editable"`: install the alias beside the path entry."""
        if version == "editable":
            build_data["force_include_editable"] = {
                "gallery/_editable_alias.py": "_byok_gallery_alias.py",
                "gallery/_editable_alias.pth": "_byok_gallery_alias.pth",
            }
