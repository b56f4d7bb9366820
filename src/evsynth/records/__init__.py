"""Records stage: import search exports in six formats and normalise them.

Deduplication is added to this subpackage in a later stage.
"""

from evsynth.records.importer import (
    ImportResult,
    import_file,
    import_files,
    import_searches,
    read_manifest,
    write_import,
)

__all__ = [
    "ImportResult",
    "import_file",
    "import_files",
    "import_searches",
    "read_manifest",
    "write_import",
]
