"""Icons: the four decorative status icons, at every size, coloured or inheriting the text colour."""

from byok.components import ErrorIcon, IconSize, InfoIcon, SuccessIcon, WarningIcon

from ..model.registry import Story

ORDER = 60
GROUP = "Icons"

STORIES = [
    Story(
        icon,
        f"Size {size.name.lower()}",
        {"size": size},
        GROUP,
        f"{icon.__name__} at h-{size.value} w-{size.value}, tinted with its kind's colour.",
        layout="centered",
    )
    for icon in (InfoIcon, SuccessIcon, WarningIcon, ErrorIcon)
    for size in IconSize
] + [
    Story(
        icon,
        "Inherits text colour",
        {"size": IconSize.LG, "colored": False},
        GROUP,
        "colored=False: the icon takes the colour of the text around it (currentColor).",
        layout="centered",
    )
    for icon in (InfoIcon, SuccessIcon, WarningIcon, ErrorIcon)
]
