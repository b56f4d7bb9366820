"""Records stage: import search exports and deduplicate them.

The importers are loaded on first use, so that ``evsynth.records.dedup`` starts
without the parsers of every format.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ImportResult",
    "import_file",
    "import_files",
    "import_searches",
    "read_manifest",
    "write_import",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("evsynth.records.importer"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
