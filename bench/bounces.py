"""Bounce diagnosis against the shared corpus: reason agreement with Sisimai's labels, a
confusion table, how often the refused IP and the blocklist are found, and bounces per second.

    .venv/bin/python bench/bounces.py [--corpus ../shared/corpus/bounces] [--misses]

Prints figures; asserts nothing. `reason_2025_02` counts as right too (the labels drift between
Sisimai releases).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.bounce.diagnose import diagnose
from bot.bounce.model import Failure

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "bounces"
IP_IN_TEXT = re.compile(r"(?:client host|banned sending ip|ip=|\[)\s*\[?(\d{1,3}(?:\.\d{1,3}){3})")


def pick(failures: list[Failure], index: int) -> Failure | None:
    real = [f for f in failures if not f.inbound]
    return real[index - 1] if 0 < index <= len(real) else (real[-1] if real else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT)
    parser.add_argument("--misses", action="store_true", help="list every disagreement")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds over the corpus")
    args = parser.parse_args()
    rows = list(csv.DictReader((args.corpus / "expected.tsv").open(encoding="utf-8"), delimiter="\t"))
    data = {r["file"]: (args.corpus / r["file"]).read_bytes() for r in rows}

    right = 0
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    misses = []
    ip_present = ip_found = bl_present = bl_found = 0
    for r in rows:
        result = diagnose(data[r["file"]])
        f = pick(result.failures, int(r["rcpt_index"]))
        got = f.reason if f else "not-a-bounce"
        ok = got in {r["reason"], r["reason_2025_02"]} - {""}
        right += ok
        confusion[r["reason"]][got] += 1
        if not ok:
            misses.append((r["file"], r["reason"], got, (f.diagnostic[:150] if f else "")))
        text = f.diagnostic.lower() if f else ""
        if r["reason"] in ("blocked", "badreputation") and IP_IN_TEXT.search(text):
            ip_present += 1
            ip_found += bool(f and f.refused_ip)
        if any(k in text for k in ("spamhaus", "spamcop", "abuseat", "sorbs", "barracudacentral",
                                   "proofpoint.com/dnsbl", "uceprotect")):
            bl_present += 1
            bl_found += bool(f and f.blocklist)

    total = len(rows)
    print(f"reason agreement: {right}/{total} = {100 * right / total:.1f}%  "
          "(Sisimai 2026 label, or its 2025-02 label)")
    print(f"refused IP found where the reply names one: {ip_found}/{ip_present}")
    print(f"blocklist named where the reply names one: {bl_found}/{bl_present}")
    print("\nconfusion (expected -> got, misses only):")
    for expected, counts in sorted(confusion.items()):
        wrong = {k: v for k, v in counts.items() if k != expected}
        if wrong:
            print(f"  {expected:16} right {counts.get(expected, 0):2}   wrong: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(wrong.items(), key=lambda kv: -kv[1])))
    if args.misses:
        print("\nmisses:")
        for file, expected, got, text in misses:
            print(f"  {file:32} expected {expected:15} got {got:15} {text}")

    blobs = list(data.values())
    rates = []
    for _ in range(args.rounds):  # one process, one core; each round the whole corpus
        cpu = time.process_time()
        for blob in blobs:
            diagnose(blob)
        rates.append(len(blobs) / (time.process_time() - cpu))
    rates.sort()
    size = sum(map(len, blobs)) / len(blobs)
    print(f"\nspeed (CPU time, one core, {args.rounds} rounds of {len(blobs)} bounces, "
          f"{size / 1024:.1f} KB average): median {rates[len(rates) // 2]:,.0f} bounces/s, "
          f"worst {rates[0]:,.0f}, best {rates[-1]:,.0f}")
    scaling()


def scaling() -> None:
    """Time per input size for realistic and adversarial pastes: linear growth shows as a flat
    microseconds-per-KB column."""
    corpus_like = (DEFAULT / "lhost-postfix-58.eml").read_bytes() if DEFAULT.exists() else b"550 x\n"
    kinds = {
        "bounces pasted back to back": corpus_like,
        "spaces": b" ",
        "newlines": b"\n",
        "'550-5.7.1 ' repeated": b"550-5.7.1 ",
        "'<<< ' lines": b"<<< 554 blocked\n",
        "'x@y: 550 ' repeated": b"x@y: 550 ",
    }
    print("\nscaling (CPU µs per KB of input; flat = linear):")
    print(f"  {'input':30}" + "".join(f"{k:>10}" for k in ("10 KB", "40 KB", "400 KB", "4 MB")))
    for label, unit in kinds.items():
        row = []
        for size in (10_240, 40_960, 409_600, 4_194_304):
            blob = (unit * (size // len(unit) + 1))[:size]
            start = time.process_time()
            diagnose(blob)
            row.append((time.process_time() - start) * 1e6 / (size / 1024))
        print(f"  {label:30}" + "".join(f"{v:10.1f}" for v in row))


if __name__ == "__main__":
    main()
