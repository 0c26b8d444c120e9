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
                                   "typo", "lists-world", "budget"])
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


# -- every language complete, and within Block Kit's limits ------------------------------------

PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _placeholders(value: str | tuple[str, ...] | None) -> set[str]:
    return set(PLACEHOLDER.findall(" ".join(value) if isinstance(value, tuple) else value or ""))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_key_is_in_every_language_with_the_same_placeholders(lang: str) -> None:
    assert lang in available()
    en, t = messages("en"), messages(lang)
    assert t.keys() == en.keys(), sorted(t.keys() ^ en.keys())
    for key in sorted(en.keys()):
        value = t.raw(key)
        assert value and (all(value) if isinstance(value, tuple) else True), key
        assert _placeholders(value) == _placeholders(en.raw(key)), key


def test_japanese_is_japanese() -> None:
    ja = messages("ja")
    for key in ("verdict.listed", "guide.check", "diag.todo", "alert.budget_low", "cause.public-resolver"):
        value = ja.raw(key)
        text = " ".join(value) if isinstance(value, tuple) else str(value)
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), key  # kana or kanji
    assert normalize("ja-JP") == "ja" and normalize("ja_JP.UTF-8") == "ja"


def test_every_data_sentence_has_a_japanese_translation() -> None:
    from bot.i18n_data import data_sentences, translations

    sentences = data_sentences()
    assert len(sentences) > 200  # the list meanings and removals, bounce explanations and remedies
    missing = [s for s in sentences if not translations("ja").get(s)]
    assert not missing, missing[:5]
    assert messages("ja").text("Nothing to fix on your side.") == "Nothing to fix on your side."  # unknown
