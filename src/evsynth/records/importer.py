"""Importing search exports: one file, a list of files, or a review's manifest.

Every record read gets a stable ``record_id``, its ``source_file`` and
``source_row``; every file gets a line in the import summary; every line the
parsers pass over, and every repair they make, is listed in the import issues.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from evsynth import __version__
from evsynth.errors import InputError
from evsynth.io import atomic_path, write_tables
from evsynth.paths import name_error
from evsynth.records import (
    bibtex,
    endnote,
    generic_csv,
    pubmed,
    ris,
    scopus,
    wos,
    zotero,
)
from evsynth.records.detect import FORMATS, detect_format
from evsynth.records.encoding import decode_bytes, read_text
from evsynth.records.model import (
    RECORD_COLUMNS,
    ImportIssue,
    ParsedRecord,
    ParseResult,
)
from evsynth.records.tables import TABLE_FORMATS, remove_controls
from evsynth.validation import read_table

log = logging.getLogger("evsynth.records")

PARSERS: dict[str, Callable[[str, str], ParseResult]] = {
    "ris": ris.parse,
    "pubmed": pubmed.parse,
    "bibtex": bibtex.parse,
    "scopus_csv": scopus.parse,
    "wos": wos.parse,
    "wos_tab": wos.parse_tab,
    "endnote_xml": endnote.parse,
    "zotero_csv": zotero.parse,
    "csv": generic_csv.parse,
}

SUMMARY_COLUMNS = (
    "file",
    "database",
    "kind",
    "date_searched",
    "update",
    "format",
    "encoding",
    "n_parsed",
    "n_reported",
    "count_differs",
    "n_issues",
)
ISSUE_COLUMNS = ("file", "line", "source_row", "record_id", "field", "message")

#: Files in a searches folder that are not exports.
NOT_EXPORTS = re.compile(r"^(?:\..*|readme(?:\..*)?|searches\.csv)$", re.IGNORECASE)


@dataclass
class FileImport:
    """The result of importing one file.

    Attributes
    ----------
    name : str
        The file as it is named in outputs (``source_file``).
    format : str
        The format read.
    encoding : str
        The encoding read.
    result : ParseResult
        Records and issues.
    meta : dict
        Manifest columns for the file (database, kind, update, ...).
    """

    name: str
    format: str
    encoding: str
    result: ParseResult
    meta: dict[str, object] = field(default_factory=dict)


def slug(text: str) -> str:
    """Turn a database name into an id prefix: ``"PsycINFO (Ovid)"`` -> ``psycinfo_ovid``."""
    value = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return value[:40] or "records"


def import_file(
    path: str | Path,
    fmt: str | None = None,
    name: str | None = None,
    *,
    data: bytes | None = None,
) -> FileImport:
    """Read one export file.

    Parameters
    ----------
    path : str or Path
        The file.
    fmt : str, optional
        Format to use (a key of :data:`evsynth.records.detect.FORMATS`);
        detected from the content when omitted.
    name : str, optional
        Name used in records and messages; defaults to ``str(path)``.
    data : bytes, optional
        The file's bytes, if already read.

    Returns
    -------
    FileImport
        The records and issues.

    Raises
    ------
    InputError
        If the file cannot be read or is malformed.
    """
    name = name or str(path)
    if fmt is not None and fmt not in FORMATS:
        raise InputError(
            f"unknown format {fmt!r}", file=name, expected=", ".join(FORMATS)
        )
    decoded = read_text(path) if data is None else decode_bytes(data, str(path))
    fmt = fmt or detect_format(decoded.text, name)
    text, removed = (
        (decoded.text, [])
        if fmt in TABLE_FORMATS
        else remove_controls(decoded.text, name)
    )
    result = PARSERS[fmt](text, name)
    result.issues[:0] = removed
    if decoded.warning:
        result.issues.insert(0, ImportIssue(name, None, None, "", decoded.warning))
        log.warning("%s: %s", name, decoded.warning)
    return FileImport(name, fmt, decoded.encoding, result)


def _hash_key(fields: dict[str, str]) -> str:
    """Hash of a record's fields, for an id when the source gives none.

    Authors are hashed with a repeated name once, as evsynth listed them
    before it kept repeats, so that such records keep their ids.
    """
    keys = ("title", "authors", "year", "journal", "volume", "pages", "doi", "abstract")
    values = dict(fields)
    if values.get("authors"):
        values["authors"] = "; ".join(dict.fromkeys(values["authors"].split("; ")))
    text = "|".join(re.sub(r"[^0-9a-z]+", "", values.get(k, "").lower()) for k in keys)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _own_id(kind: str, value: str) -> str:
    if kind == "ut":
        value = re.sub(r"^WOS:", "", value, flags=re.IGNORECASE)
    if kind == "doi":  # DOIs are one whatever their case; the id does not vary
        value = value.lower()
    value = re.sub(r"\s+", "_", value.strip())
    return f"{kind}:{value}"


def build_records(imports: Sequence[FileImport]) -> pd.DataFrame:
    """Assemble the records table and give every record its stable id.

    The id is ``<prefix>:<kind>:<value>``: the prefix names the database (or the
    file, outside a review), the kind and value are the source's own id (PMID,
    accession number, Scopus EID, Web of Science UT, DOI, Zotero key), or ``h``
    and a hash of the normalised fields when the source gives none. Files are
    taken in order (original searches before updates), so a repeat of an id
    gets ``~2``, ``~3``... and earlier records keep their ids when updates are
    added.

    Parameters
    ----------
    imports : sequence of FileImport
        The files, in manifest order with original searches first.

    Returns
    -------
    pandas.DataFrame
        One row per record with :data:`RECORD_COLUMNS`.
    """
    rows: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for item in imports:
        prefix = slug(str(item.meta.get("database") or Path(item.name).stem))
        for position, record in enumerate(item.result.records, start=1):
            if record.source_ids:
                base = f"{prefix}:{_own_id(*record.source_ids[0])}"
            else:
                base = f"{prefix}:h:{_hash_key(record.fields)}"
            count = seen.get(base, 0) + 1
            seen[base] = count
            record_id = base if count == 1 else f"{base}~{count}"
            row: dict[str, object] = {
                "record_id": record_id,
                "source_file": item.name,
                "source_row": position,
                "source_line": record.line,
                "database": item.meta.get("database", ""),
                "update": item.meta.get("update", 0),
                "format": item.format,
            }
            row.update(record.fields)
            rows.append(row)
    empty = dict.fromkeys(RECORD_COLUMNS, "")
    return pd.DataFrame(
        [{**empty, **row} for row in rows], columns=list(RECORD_COLUMNS)
    )


def _issues_frame(imports: Sequence[FileImport], records: pd.DataFrame) -> pd.DataFrame:
    ids = {
        (f, int(r)): i
        for f, r, i in zip(
            records["source_file"],
            records["source_row"],
            records["record_id"],
            strict=True,
        )
    }
    rows = [
        {
            "file": issue.file,
            "line": issue.line,
            "source_row": issue.record,
            "record_id": ids.get((issue.file, issue.record or -1), ""),
            "field": issue.field,
            "message": issue.message,
        }
        for item in imports
        for issue in item.result.issues
    ]
    frame = pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))
    for column in ("line", "source_row"):
        frame[column] = frame[column].astype("Int64")
    return frame


#: Manifest columns the summary shows in its own way (or not at all).
_MANIFEST_COLUMNS = {
    "file",
    "database",
    "kind",
    "date_searched",
    "update",
    "n_reported",
    "format",
    "manifest_row",
}


def _summary_frame(imports: Sequence[FileImport]) -> pd.DataFrame:
    rows = []
    extra: list[str] = []
    for item in imports:
        extra += [c for c in item.meta if c not in _MANIFEST_COLUMNS and c not in extra]
    for item in imports:
        reported = item.meta.get("n_reported")
        parsed = len(item.result.records)
        rows.append(
            {
                "file": item.name,
                "database": item.meta.get("database", ""),
                "kind": item.meta.get("kind", ""),
                "date_searched": item.meta.get("date_searched", ""),
                "update": item.meta.get("update", 0),
                "format": item.format,
                "encoding": item.encoding,
                "n_parsed": parsed,
                "n_reported": reported,
                "count_differs": reported is not None and int(reported) != parsed,
                "n_issues": len(item.result.issues),
                **{c: item.meta.get(c) for c in extra},
            }
        )
    frame = pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, *extra])
    frame["n_reported"] = frame["n_reported"].astype("Int64")
    return frame


@dataclass
class ImportResult:
    """Tables produced by an import.

    Attributes
    ----------
    records : pandas.DataFrame
        Every record (``records.csv``).
    summary : pandas.DataFrame
        One row per file (``import_summary.csv``).
    issues : pandas.DataFrame
        Every warning and repair (``import_issues.csv``).
    """

    records: pd.DataFrame
    summary: pd.DataFrame
    issues: pd.DataFrame


def _log_issues(imports: Sequence[FileImport]) -> None:
    for item in imports:
        for issue in item.result.issues:
            log.warning("%s", issue)
        log.info(
            "%s: %d records (%s, %s)",
            item.name,
            len(item.result.records),
            item.format,
            item.encoding,
        )


def _finish(imports: Sequence[FileImport]) -> ImportResult:
    _log_issues(imports)
    records = build_records(imports)
    return ImportResult(
        records, _summary_frame(imports), _issues_frame(imports, records)
    )


def import_files(paths: Sequence[str | Path], fmt: str | None = None) -> ImportResult:
    """Import export files given on the command line.

    Parameters
    ----------
    paths : sequence of str or Path
        The files, in order.
    fmt : str, optional
        Force one format for every file.

    Returns
    -------
    ImportResult
        Records, per-file summary and issues.
    """
    imports = [
        import_file(p, fmt)
        for p in tqdm(paths, desc="import", unit="file", disable=None, leave=False)
    ]
    return _finish(imports)


def read_manifest(manifest: str | Path, searches_dir: str | Path) -> pd.DataFrame:
    """Read and check a review's search manifest (``searches.csv``).

    Every row must name a file inside the folder (:func:`evsynth.paths.name_error`)
    that exists, no file may be listed twice, and every export in the folder
    must be listed, so no search is left out.

    Parameters
    ----------
    manifest : str or Path
        The manifest CSV.
    searches_dir : str or Path
        Folder holding the exports.

    Returns
    -------
    pandas.DataFrame
        The validated manifest, original searches first, then updates in order,
        with ``manifest_row`` giving each row's 1-based position in the file.
    """
    table = read_table(manifest, "searches")
    folder = Path(searches_dir)
    seen: dict[str, int] = {}
    for index, name in enumerate(table["file"], start=1):
        unsafe = name_error(name, folder, file=manifest, row=index)
        if unsafe is not None:  # before the file is looked at
            raise unsafe
        if name in seen:
            raise InputError(
                f"{name!r} is listed twice (first on row {seen[name]})",
                file=manifest,
                line=index + 1,
                row=index,
                column="file",
                expected="one row per export file",
            )
        seen[name] = index
        if not (folder / name).is_file():
            raise InputError(
                f"{name!r} not found in {folder}",
                file=manifest,
                line=index + 1,
                row=index,
                column="file",
                expected="the name of an export file in the searches folder",
            )
    listed = {str(Path(n)) for n in table["file"]}
    manifest_path = Path(manifest).resolve()
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.resolve() == manifest_path:
            continue
        relative = str(path.relative_to(folder))
        if NOT_EXPORTS.match(path.name) or relative in listed:
            continue
        raise InputError(
            "export file is not listed in the manifest, so its records would be lost",
            file=path,
            expected=f"a row for {relative!r} in {manifest}",
        )
    table["manifest_row"] = range(1, len(table) + 1)
    table = table.sort_values(["update", "manifest_row"], kind="stable")
    return table.reset_index(drop=True)


#: What a parsed export's file says it is (its ``kind``) and the layout's version.
PARSED_KIND = "evsynth parsed export"
PARSED_LAYOUT = 1


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _payload_hash(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=True, allow_nan=False)
    return _sha256(text.encode("ascii"))


def _read_export(path: str | Path) -> bytes:
    """Read the bytes of an export, with the messages of :func:`read_text`."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", file=path) from None


def parse_export(path: str | Path, fmt: str | None, name: str, out: str | Path) -> None:
    """Parse one export and store the result for :func:`import_searches` (one job per file).

    The workflow parses each export in a job of its own, so adding a search
    re-reads that file only; the records get their ids when all files are
    merged, as ids depend on the order of the searches.

    The result is plain JSON data (nothing in it can run when it is read):
    ``kind``, ``layout``, the ``evsynth`` version that wrote it, the export's
    ``source`` name, its ``sha256``, ``format`` and ``encoding``, the
    ``records`` (``line``, ``fields``, ``ids``) and ``issues``, and
    ``content_sha256``, the hash of the records and issues.
    :func:`import_searches` takes it only for the export it was parsed from.

    Parameters
    ----------
    path : str or Path
        The export.
    fmt : str or None
        Its format, or None to detect it.
    name : str
        Its name in the manifest (``source_file``).
    out : str or Path
        Where to store the parsed records (JSON, internal to evsynth).
    """
    data = _read_export(path)
    item = import_file(path, fmt, name, data=data)
    content = {
        "records": [
            {
                "line": record.line,
                "fields": record.fields,
                "ids": [list(pair) for pair in record.source_ids],
            }
            for record in item.result.records
        ],
        "issues": [
            {
                "file": issue.file,
                "line": issue.line,
                "record": issue.record,
                "field": issue.field,
                "message": issue.message,
            }
            for issue in item.result.issues
        ],
    }
    document = {
        "kind": PARSED_KIND,
        "layout": PARSED_LAYOUT,
        "evsynth": __version__,
        "source": name,
        "sha256": _sha256(data),
        "format": item.format,
        "encoding": item.encoding,
        "content_sha256": _payload_hash(content),
        **content,
    }
    text = json.dumps(document, ensure_ascii=True, allow_nan=False, indent=0)
    with atomic_path(out) as tmp:
        tmp.write_text(text + "\n", encoding="ascii")


class _Malformed(Exception):
    """A parsed export's file is not what :func:`parse_export` writes."""


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Malformed("a text value")
    return value


def _number(value: object, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed("a whole number")
    return value


def _parsed_content(document: dict[str, object], name: str) -> ParseResult:
    """Read the records and issues of a parsed export's JSON, checking every value."""
    records, issues = document.get("records"), document.get("issues")
    if not isinstance(records, list) or not isinstance(issues, list):
        raise _Malformed("lists of records and issues")
    result = ParseResult()
    for entry in records:
        if not isinstance(entry, dict) or set(entry) != {"line", "fields", "ids"}:
            raise _Malformed("records with line, fields and ids")
        fields, ids = entry["fields"], entry["ids"]
        if not isinstance(fields, dict) or not isinstance(ids, list):
            raise _Malformed("fields and ids of a record")
        pairs = []
        for pair in ids:
            if not isinstance(pair, list) or len(pair) != 2:
                raise _Malformed("ids as pairs of kind and value")
            pairs.append((_text(pair[0]), _text(pair[1])))
        line = _number(entry["line"])
        assert line is not None
        result.records.append(
            ParsedRecord(line, {_text(k): _text(v) for k, v in fields.items()}, pairs)
        )
    for entry in issues:
        if not isinstance(entry, dict) or set(entry) != {
            "file",
            "line",
            "record",
            "field",
            "message",
        }:
            raise _Malformed("issues with file, line, record, field and message")
        if entry["file"] != name:
            raise _Malformed(f"issues of {name!r}")
        result.issues.append(
            ImportIssue(
                name,
                _number(entry["line"], optional=True),
                _number(entry["record"], optional=True),
                _text(entry["field"]),
                _text(entry["message"]),
            )
        )
    return result


def _load_parsed(
    path: str | Path, export: str | Path, name: str, fmt: str | None = None
) -> FileImport:
    """Read a parsed export's file, if it is the parsed form of ``export`` as it is now.

    Raises
    ------
    InputError
        Naming the file, if it is not the JSON :func:`parse_export` writes, was
        changed since, or was parsed from another export, from another version of
        it or in another format than the manifest now gives.
    """
    again = (
        f"the file evsynth wrote when it parsed {export}: delete {Path(path).parent} "
        "and run again"
    )
    try:
        document = json.loads(Path(path).read_bytes().decode("ascii"))
        if not isinstance(document, dict):
            raise _Malformed("a JSON object")
        if document.get("kind") != PARSED_KIND or document.get("layout") != (
            PARSED_LAYOUT
        ):
            raise _Malformed(f"kind {PARSED_KIND!r}, layout {PARSED_LAYOUT}")
        source, digest = document.get("source"), document.get("sha256")
        parsed_format, encoding = document.get("format"), document.get("encoding")
        _text(document.get("evsynth"))
        if not isinstance(encoding, str) or parsed_format not in FORMATS:
            raise _Malformed("the export's format and encoding")
        result = _parsed_content(document, name)
        if document.get("content_sha256") != _payload_hash(
            {"records": document["records"], "issues": document["issues"]}
        ):
            raise _Malformed("records and issues as evsynth wrote them")
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, _Malformed) as exc:
        reason = exc if isinstance(exc, _Malformed) else type(exc).__name__
        raise InputError(
            f"not a parsed export evsynth wrote ({reason})", file=path, expected=again
        ) from None
    if source != name:
        raise InputError(
            f"parsed from {source!r}, not from {name!r}", file=path, expected=again
        )
    if digest != _sha256(_read_export(export)):
        raise InputError(
            f"parsed from another version of {export} (its SHA-256 differs)",
            file=path,
            expected=again,
        )
    if fmt is not None and parsed_format != fmt:
        raise InputError(
            f"parsed as {parsed_format}, but the manifest gives the format {fmt}",
            file=path,
            expected=again,
        )
    assert isinstance(parsed_format, str)
    return FileImport(name, parsed_format, encoding, result)


def import_searches(
    manifest: str | Path,
    searches_dir: str | Path,
    *,
    count_mismatch: str = "warn",
    parsed: dict[str, str | Path] | None = None,
) -> ImportResult:
    """Import every export a review's manifest lists.

    Parameters
    ----------
    manifest : str or Path
        ``searches.csv`` (columns in ``evsynth/schemas/searches.schema.yaml``).
    searches_dir : str or Path
        The folder of exports.
    count_mismatch : {"warn", "error"}
        What to do when a file holds a different number of records than the
        database reported (``n_reported``): flag and warn, or stop.
    parsed : dict, optional
        Exports already parsed by :func:`parse_export`, by manifest name; the
        others are read here.

    Returns
    -------
    ImportResult
        Records, per-file summary and issues.
    """
    table = read_manifest(manifest, searches_dir)
    ready = dict(parsed or {})
    imports: list[FileImport] = []
    rows = table.to_dict(orient="records")
    for row in tqdm(rows, desc="import", unit="file", disable=None, leave=False):
        name = str(row["file"])
        if name in ready:
            item = _load_parsed(
                ready[name], Path(searches_dir) / name, name, row.get("format")
            )
        else:
            item = import_file(Path(searches_dir) / name, row.get("format"), name)
        item.meta = row
        reported = int(row["n_reported"])
        parsed = len(item.result.records)
        if reported != parsed:
            message = (
                f"{parsed} records in the file but the manifest reports {reported}"
            )
            if count_mismatch == "error":
                raise InputError(
                    message,
                    file=manifest,
                    line=int(row["manifest_row"]) + 1,
                    row=int(row["manifest_row"]),
                    column="n_reported",
                    expected="the number of records in the export",
                )
            item.result.issues.append(
                ImportIssue(name, None, None, "n_reported", message)
            )
        imports.append(item)
    return _finish(imports)


def write_import(
    result: ImportResult,
    records: str | Path,
    summary: str | Path | None = None,
    issues: str | Path | None = None,
) -> None:
    """Write the import's tables, all or none.

    Parameters
    ----------
    result : ImportResult
        The import.
    records, summary, issues : str or Path
        Output paths; ``summary`` and ``issues`` may be omitted.
    """
    tables = {Path(records): result.records}
    if summary is not None:
        tables[Path(summary)] = result.summary
    if issues is not None:
        tables[Path(issues)] = result.issues
    write_tables(tables)
