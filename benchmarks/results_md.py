"""Write one benchmark's section of ``benchmarks/RESULTS.md`` between its markers."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, lines: list[str], results: Path = RESULTS) -> str:
    """Replace (or append) the section ``name`` of RESULTS.md and return it.

    The section sits between ``<!-- name:start -->`` and ``<!-- name:end -->``;
    the rest of the file is left as it is.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = "\n".join([start, *lines, end])
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmarks\n"
    if start in text:
        pattern = re.escape(start) + ".*?" + re.escape(end)
        text = re.sub(pattern, lambda _: block, text, flags=re.DOTALL)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    results.write_text(text, encoding="utf-8")
    return block
