"""The sentences inside the data files (a list's removal text and code meanings, a bounce
reason's explanation and remedy) and their translations.

They are written in English in `bot/data/*.toml`, next to the rules they explain, so a new list
or signature stays one edit. Translations are classic gettext: `bot/locale/data/<lang>.po` with
the English sentence as msgid. A sentence without a translation is shown in English, and the
tests require every shipped sentence to have one in every language.
`python -m bot.i18n_data > bot/locale/data/blcheck-data.pot` writes the template translators use.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.pofile import read_po, write_po

#: Which fields of which data file are sentences people read.
FIELDS = {"lists.toml": ("removal", "needs", "meaning"), "bounce.toml": ("explanation", "remedy")}


def _walk(node: Any, fields: tuple[str, ...], where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("id"), str):
            where = f"{where}[{node['id']}]"
        for key, value in node.items():
            if key in fields and isinstance(value, str) and value.strip():
                yield value, f"{where}:{key}"
            else:
                yield from _walk(value, fields, f"{where}.{key}" if where else key)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, fields, where)


def data_sentences() -> dict[str, str]:
    """Every shipped data sentence, with where it first appears (for translators)."""
    found: dict[str, str] = {}
    for name, fields in FIELDS.items():
        text = resources.files("bot.data").joinpath(name).read_text(encoding="utf-8")
        for sentence, where in _walk(tomllib.loads(text), fields, name.removesuffix(".toml")):
            found.setdefault(sentence, where)
    return found


@cache
def translations(lang: str) -> dict[str, str]:
    """English data sentence -> its translation into `lang` (empty for English)."""
    path = resources.files("bot.locale").joinpath("data", f"{lang}.po")
    if lang == "en" or not path.is_file():
        return {}
    with path.open("rb") as f:
        catalog = read_po(f)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def template() -> PoCatalog:
    catalog = PoCatalog(project="blcheck data sentences")
    for sentence, where in data_sentences().items():
        catalog.add(sentence, auto_comments=[where])
    return catalog


def main() -> None:
    import sys

    write_po(sys.stdout.buffer, template(), width=0, omit_header=False)


if __name__ == "__main__":
    main()
