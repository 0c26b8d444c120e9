"""Message catalogs: every sentence the bot shows a user is a key in `bot/locale/<lang>.po`.

The catalogs are ordinary gettext PO files read with Babel, so translators use the usual tools
(msgfmt --check, Poedit, Weblate). Keys rather than English sentences are the msgids, so a change
of wording in one language never orphans the others. Placeholders use `str.format` names.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.pofile import read_po

DEFAULT_LANG = "en"


class Messages:
    """One language's texts, falling back to English for a key a translation lacks."""

    def __init__(self, lang: str, texts: dict[str, str | tuple[str, ...]],
                 plural: Callable[[int], int], fallback: Messages | None = None) -> None:
        self.lang = lang
        self._texts = texts
        self._plural = plural
        self._fallback = fallback

    def keys(self) -> set[str]:
        return set(self._texts)

    def raw(self, key: str) -> str | tuple[str, ...] | None:
        """The catalog's own entry for `key` (no fallback): for completeness checks."""
        return self._texts.get(key)

    def text(self, sentence: str) -> str:
        """A sentence from the data files (a list's meaning, a remedy) in this language; the
        English original when it has no translation (see bot/i18n_data.py)."""
        from bot.i18n_data import translations

        return translations(self.lang).get(sentence, sentence)

    def texts(self, sentences: Sequence[str]) -> list[str]:
        return [self.text(s) for s in sentences]

    def __call__(self, key: str, /, **values: Any) -> str:
        """The text for `key` with `values` filled in."""
        text = self._texts.get(key)
        if text is None:
            if self._fallback is None:
                raise KeyError(f"message {key!r} is missing from the {self.lang} catalog")
            return self._fallback(key, **values)
        if isinstance(text, tuple):
            text = text[0]
        return text.format(**values)

    def n(self, key: str, count: int, /, **values: Any) -> str:
        """The plural form of `key` that fits `count` (available as `{count}`)."""
        text = self._texts.get(key)
        if text is None:
            if self._fallback is None:
                raise KeyError(f"message {key!r} is missing from the {self.lang} catalog")
            return self._fallback.n(key, count, **values)
        if isinstance(text, tuple):
            text = text[min(self._plural(count), len(text) - 1)]
        return text.format(count=count, **values)


class Text:
    """A message not yet in a language: its key and values, rendered by whoever knows the
    reader's language. The core (targets, the engine) returns these; `str()` is English, for
    logs, JSON and exceptions. A value may itself be a Text."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, /, **values: Any) -> None:
        self.key = key
        self.values = values

    def render(self, t: Messages) -> str:
        values = {k: v.render(t) if isinstance(v, Text) else v for k, v in self.values.items()}
        return t(self.key, **values)

    def __str__(self) -> str:
        return self.render(messages(DEFAULT_LANG))

    def __repr__(self) -> str:
        return f"Text({self.key!r}, {self.values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.key, self.values) == (other.key, other.values)

    def __hash__(self) -> int:
        return hash((self.key, tuple(sorted(map(str, self.values.items())))))


def available() -> list[str]:
    return sorted(p.name[:-3] for p in resources.files("bot.locale").iterdir()
                  if p.name.endswith(".po"))


def _load(lang: str, fallback: Messages | None) -> Messages:
    with resources.files("bot.locale").joinpath(f"{lang}.po").open("rb") as f:
        catalog = read_po(f)
    texts: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        key = str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id)
        value = message.string
        if isinstance(value, (tuple, list)):
            if all(value):
                texts[key] = tuple(value)
        elif value:
            texts[key] = value
    plural = gettext.c2py(catalog.plural_expr)
    return Messages(lang, texts, plural, fallback)


def normalize(lang: str | None) -> str:
    """`ja-JP`, `ja_JP.UTF-8`, `JA` -> `ja`; anything we have no catalog for -> English."""
    code = (lang or "").replace("-", "_").split("_")[0].split(".")[0].lower()
    return code if code in available() else DEFAULT_LANG


@cache
def messages(lang: str | None = None) -> Messages:
    """The catalog for `lang` (a Slack locale such as `ja-JP` works), English as the fallback."""
    code = normalize(lang)
    english = _load(DEFAULT_LANG, None) if code != DEFAULT_LANG else None
    return _load(code, english)
