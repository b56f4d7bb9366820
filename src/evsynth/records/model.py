"""The normalised record every importer produces, and the issues it reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: The bibliographic fields an importer fills (the rest are set by the import).
#: ``authors`` holds every author as the export lists them, in order and with
#: repeats; ``group_authors`` repeats those of them that are group (corporate)
#: authors. Identifiers (``doi``, ``pmid``, ``isbn``, ``issn``, ``accession``)
#: are kept as the export writes them, resolver prefixes and notes dropped.
BIB_FIELDS: tuple[str, ...] = (
    "title",
    "authors",
    "year",
    "journal",
    "journal_abbrev",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "isbn",
    "issn",
    "accession",
    "type",
    "language",
    "keywords",
    "url",
    "abstract",
    "group_authors",
)

#: Columns of ``records.csv``, in order.
RECORD_COLUMNS: tuple[str, ...] = (
    "record_id",
    "source_file",
    "source_row",
    "source_line",
    "database",
    "update",
    "format",
    *BIB_FIELDS,
)

#: Controlled vocabulary of the ``type`` column.
RECORD_TYPES: tuple[str, ...] = (
    "article",
    "review",
    "conference",
    "book",
    "chapter",
    "thesis",
    "report",
    "web",
    "erratum",
    "comment",
    "editorial",
    "letter",
    "retraction",
    "preprint",
    "dataset",
    "other",
)


@dataclass
class ImportIssue:
    """A problem met while importing that did not stop the import.

    Parameters
    ----------
    file : str
        The input file.
    line : int or None
        1-based line in the file, where known.
    record : int or None
        1-based position of the record in the file, where the issue concerns one.
    field : str
        Tag, column or field concerned (empty if none).
    message : str
        What happened and what evsynth did about it.
    """

    file: str
    line: int | None
    record: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field:
            where.append(f"field '{self.field}'")
        return ", ".join(where) + f": {self.message}"


@dataclass
class ParsedRecord:
    """One record as a format module hands it over.

    Parameters
    ----------
    line : int
        1-based line where the record starts in its file.
    fields : dict of str to str
        Normalised values of the :data:`BIB_FIELDS` that the record has.
    source_ids : list of (str, str)
        The source's own identifiers, most specific first, as ``(kind, value)``
        pairs such as ``("pmid", "20679165")``; used for the stable record id.
    """

    line: int
    fields: dict[str, str] = field(default_factory=dict)
    source_ids: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def build(
        cls, fields: dict[str, str], ids: Iterable[tuple[str, str]]
    ) -> ParsedRecord:
        """Make a record from its fields and candidate ids, dropping empty ones.

        Parameters
        ----------
        fields : dict
            Normalised field values; empty ones are left out.
        ids : iterable of (str, str)
            ``(kind, value)`` pairs, most specific first; empty values are left out.

        Returns
        -------
        ParsedRecord
            The record (its line is set by the caller).
        """
        return cls(
            0,
            {k: v for k, v in fields.items() if v},
            [(kind, value) for kind, value in ids if value],
        )


@dataclass
class ParseResult:
    """What a format module returns for one file."""

    records: list[ParsedRecord] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
