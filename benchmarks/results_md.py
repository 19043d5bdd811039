"""Replace one section of benchmarks/RESULTS.md, leaving the others as they are."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def write_section(heading: str, body: str, path: Path = RESULTS) -> None:
    """Put ``body`` under ``## heading``, replacing that section if it exists."""
    text = path.read_text() if path.exists() else "# NCE benchmark results\n"
    block = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: block + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + block
    path.write_text(text)


def publish(heading: str, body: str, write: bool = True) -> None:
    """Print a benchmark's section and, unless told not to, put it in RESULTS.md."""
    print(body)
    if write:
        write_section(heading, body)
