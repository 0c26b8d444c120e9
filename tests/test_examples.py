"""README.md shows every message as the bot really renders it: regenerating the examples from
the real code paths (against rbldnsd on loopback) must give exactly what README.md holds."""

from __future__ import annotations

import re

from bot.examples import END, README, START, render


async def test_readme_examples_are_the_real_output() -> None:
    body = await render()
    readme = README.read_text(encoding="utf-8")
    held = re.search(re.escape(START) + "\n(.*?)\n" + re.escape(END), readme, re.DOTALL)
    assert held is not None, "README.md lost its examples block"
    assert held.group(1) == body, "README.md examples are stale: run .venv/bin/python -m bot.examples --write"
    for shown in ("first-run guide", "/blcheck 11.22.33.44", "threaded diagnosis", "doctor",
                  "first check", "alert in the channel", "delist", "query budget", "Japanese"):
        assert shown in body, shown
