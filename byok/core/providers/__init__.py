"""The providers byok knows: display name, placeholder, key format, where to get a key, the API's
base URL, the zero-token request that checks a key (`KeyCheck`, with its source), and which
custom-endpoint fields a user may give.

Apps override or extend the registry per call with `provider_config` ({provider: {field:
value}}); a partial entry keeps the defaults for the fields it leaves out (the reference raised
KeyError). `info` holds what a provider is (`ProviderInfo`, `KeyCheck`, `safe_url`), `builtin` the
registry's entries, `resolve` the lookup with the app's overrides, `names` the check that
refuses a typo (`"opneai"`) and `register_provider` for an app's own providers. Every name is importable from
here, as it was from the single module this package replaces.
"""

from .builtin import BUILTIN_PROVIDERS
from .info import KeyCheck, ProviderInfo, safe_url
from .names import check_offered, check_provider, register_provider
from .resolve import default_provider_info, key_matches, resolve_provider

__all__ = [
    "BUILTIN_PROVIDERS",
    "KeyCheck",
    "ProviderInfo",
    "check_offered",
    "check_provider",
    "default_provider_info",
    "key_matches",
    "register_provider",
    "resolve_provider",
    "safe_url",
]
