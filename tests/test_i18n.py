"""Message catalogs: every key the code uses exists, and plural forms follow the count."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import available, messages, normalize

ROOT = Path(__file__).parent.parent
SOURCES = [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py")]
LITERAL_KEY = re.compile(r"""\bt(?:\.n)?\(\s*["']([a-z_]+\.[a-z_.-]+)["']""")


def used_keys() -> set[str]:
    return {key for path in SOURCES for key in LITERAL_KEY.findall(path.read_text())}


def test_code_uses_only_keys_the_catalog_has() -> None:
    keys = used_keys()
    assert len(keys) > 20  # the pattern still finds the calls
    missing = keys - messages("en").keys()
    assert not missing, missing


@pytest.mark.parametrize("cause", ["public-resolver", "refused", "volume", "rewrite", "key",
                                   "typo", "lists-world"])
def test_every_error_cause_in_the_catalog_data_has_a_text(cause: str) -> None:
    assert "{list}" not in messages("en")(f"cause.{cause}", list="Spamhaus ZEN")


def test_plural_forms() -> None:
    t = messages("en")
    assert t.n("clean.count", 1) == "Clean on 1 list"
    assert t.n("clean.count", 28) == "Clean on 28 lists"


def test_locale_names_map_to_catalogs() -> None:
    assert "en" in available()
    assert normalize("en-US") == "en" and normalize(None) == "en" and normalize("xx_YY.UTF-8") == "en"


def test_a_missing_key_fails_loudly() -> None:
    with pytest.raises(KeyError):
        messages("en")("no.such.key")
