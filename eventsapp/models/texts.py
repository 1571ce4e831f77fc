"""Texts written in German and translated, field by field, into further languages."""

from __future__ import annotations


class TranslatedTexts:
    """For models with a `translations` column ({"ar": {"title": …}, …}): a text in a
    language, falling back to the German one field by field."""

    def german(self, field: str) -> str:
        """The text as written, in German (by default the column `field`)."""
        return getattr(self, field) or ""

    def text(self, field: str, language: str | None) -> str:
        """`field` in `language`, else in German."""
        translated = (self.translations or {}).get(language or "", {}).get(field)
        return translated or self.german(field)

    def falls_back_to_german(self, field: str, language: str | None) -> bool:
        """True when `text(field, language)` gives the German text on a page in another
        language (no translation entered): pages mark it as German."""
        if language in (None, "de") or not self.german(field):
            return False
        return not (self.translations or {}).get(language, {}).get(field)
