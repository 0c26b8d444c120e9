"""The shared corpus of real bounces (../shared/corpus), when this checkout has it: every file
is read as a bounce, and the reasons agree with Sisimai's labels at least 90% of the time.
bench/bounces.py prints the full confusion table."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from bot.bounce.diagnose import diagnose


def _corpus() -> Path:
    """BLCHECK_BOUNCE_CORPUS, else ../shared beside the checkout, else this machine's /work/shared."""
    for candidate in (os.environ.get("BLCHECK_BOUNCE_CORPUS"),
                      Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "bounces",
                      "/work/shared/corpus/bounces"):
        if candidate and (Path(candidate) / "expected.tsv").exists():
            return Path(candidate)
    return Path("../shared/corpus/bounces")


CORPUS = _corpus()

pytestmark = pytest.mark.skipif(not (CORPUS / "expected.tsv").exists(),
                                reason=f"the shared bounce corpus is not at {CORPUS}")


def test_corpus_reason_agreement() -> None:
    rows = list(csv.DictReader((CORPUS / "expected.tsv").open(encoding="utf-8"), delimiter="\t"))
    right = 0
    not_bounces = []
    for row in rows:
        result = diagnose((CORPUS / row["file"]).read_bytes())
        if not result.is_bounce:
            not_bounces.append(row["file"])
            continue
        real = [f for f in result.failures if not f.inbound]
        index = min(int(row["rcpt_index"]), len(real)) - 1
        right += real[index].reason in {row["reason"], row["reason_2025_02"]}
    assert not_bounces == []
    assert right / len(rows) >= 0.90, f"{right}/{len(rows)}"
