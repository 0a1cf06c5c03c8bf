"""The languages the greeting offers (config/languages.toml) as a menu: after 3, each with a key of its own."""

from __future__ import annotations

from ..core.engine import DirectoryEntry
from .actions import handler

MENU_KEYS = "123456789"  # one key per offered language, in the greeting's order


@handler("directory:interpretation_language")
def interpretation_languages(services) -> list[DirectoryEntry]:
    """The offered languages keyed 1, 2, …; choosing one stores its code as answers['interpretation_language']."""
    return [DirectoryEntry(digits=key, code=lang, names={}, lang=lang)
            for key, lang in zip(MENU_KEYS, services.catalog.offers, strict=False)]
