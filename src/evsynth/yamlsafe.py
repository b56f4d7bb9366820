"""The one strict reader of YAML files (a review's config).

Every YAML file a user writes is read by :func:`read_yaml`, which is PyYAML's
``SafeLoader`` with the tricks a hostile or careless file can play on it
refused before anything is built from the document:

* a file larger than :data:`MAX_YAML_BYTES` is refused before it is read;
* bytes that are not UTF-8 are refused with their line (a UTF-8 byte-order
  mark is accepted and dropped);
* aliases (``*name``) are refused at the line of the alias, while the document
  is being composed, so a "billion laughs" document never grows: nothing
  composes or loads a document before this guard;
* nesting deeper than :data:`MAX_DEPTH` is refused (no recursion blow-up);
* a key given twice in one mapping is refused naming both lines (PyYAML
  would silently keep the last);
* PyYAML's own syntax errors (tabs for indentation, control characters,
  several documents, unknown tags) are reported with their line.

Every problem is an :class:`evsynth.errors.InputError` naming the file, the
line and, where known, the key path (``column 'meta/level'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evsynth.errors import InputError, decode_utf8

__all__ = [
    "MAX_DEPTH",
    "MAX_YAML_BYTES",
    "YamlDocument",
    "parse_yaml",
    "read_yaml",
    "read_yaml_mapping",
]

#: Largest YAML file read (a review's config is a few kilobytes).
MAX_YAML_BYTES = 1_000_000
#: Deepest nesting of mappings and lists accepted.
MAX_DEPTH = 64

_PLAIN = (
    "plain YAML: each value written out in full, without anchors (&) or aliases (*)"
)


@dataclass
class YamlDocument:
    """A YAML document read strictly.

    Attributes
    ----------
    data : Any
        The document as Python values (None for an empty file).
    lines : dict of tuple to int
        The 1-based line of every key and list item, keyed by its path
        (``("meta", "level")``, ``("screening", "reviewers", 0)``).
    """

    data: Any
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, path: Sequence[Any]) -> int | None:
        """Return the line of a key, or of its nearest parent written in the file.

        Parameters
        ----------
        path : sequence
            The key's path (``("meta", "analyses", 0, "name")``).

        Returns
        -------
        int or None
            The 1-based line, or None if not even the top key is in the file.
        """
        here = tuple(path)
        while here:
            if here in self.lines:
                return self.lines[here]
            here = here[:-1]
        return None


class _Refused(yaml.YAMLError):
    """A problem found by the strict loader, with its line and key path."""

    def __init__(
        self, message: str, line: int | None, path: tuple[Any, ...], expected: str
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.path = path
        self.expected = expected


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and deep nesting while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[Any] = []
        self._anchor_lines: dict[str, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        pushed = parent is not None
        if pushed:
            self._path.append(index.value if isinstance(index, yaml.Node) else index)
        try:
            event = self.peek_event()
            line = event.start_mark.line + 1
            if len(self._path) > MAX_DEPTH:
                raise _Refused(
                    f"nested more than {MAX_DEPTH} levels deep",
                    line,
                    tuple(p for p in self._path[:4] if p is not None),
                    f"at most {MAX_DEPTH} levels of keys and lists",
                )
            if isinstance(event, yaml.AliasEvent):
                anchor = event.anchor
                where = self._anchor_lines.get(anchor)
                origin = f" of line {where}" if where else ""
                raise _Refused(
                    f"alias *{anchor} repeats the anchor &{anchor}{origin}; "
                    "aliases are not allowed",
                    line,
                    tuple(p for p in self._path if p is not None),
                    _PLAIN,
                )
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                self._anchor_lines.setdefault(anchor, line)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            if pushed:
                self._path.pop()

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)  # type: ignore[no-any-return]
        except ValueError:  # more digits than Python converts
            raise yaml.constructor.ConstructorError(
                None, None, "a number too long to read", node.start_mark
            ) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def _check_keys(root: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    """Return the line of every key and item; refuse a key given twice."""
    keys = yaml.constructor.SafeConstructor()
    lines: dict[tuple[Any, ...], int] = {}
    stack: list[tuple[yaml.Node | None, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode):
                    identity = keys.construct_object(key)
                    try:
                        first = seen.get(identity)
                    except TypeError:  # pragma: no cover - scalars are hashable
                        first = None
                    if first is not None:
                        raise _Refused(
                            f"key {key.value!r} is given twice, on line {first} "
                            f"and on line {line}",
                            line,
                            (*path, key.value),
                            "each key once: remove or merge one of the two",
                        )
                    seen[identity] = line
                here = (*path, key.value)
                lines[here] = line
                stack.append((value, here))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                here = (*path, index)
                lines[here] = item.start_mark.line + 1
                stack.append((item, here))
    return lines


def _line_of_position(text: str, position: int | None) -> int | None:
    if position is None or position < 0:
        return None
    return text.count("\n", 0, position) + 1


def _column(path: tuple[Any, ...]) -> str | None:
    return "/".join(str(p) for p in path) or None


def parse_yaml(text: str, name: str | Path) -> YamlDocument:
    """Read a YAML document from text, strictly (see the module's notes).

    Parameters
    ----------
    text : str
        The document (a leading byte-order mark is dropped).
    name : str or Path
        The file's name for messages.

    Returns
    -------
    YamlDocument
        The data and the line of every key.

    Raises
    ------
    InputError
        For an alias, a key given twice, nesting too deep or any YAML error,
        naming the line and, where known, the key.
    """
    text = text.removeprefix("\ufeff")
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as exc:
        raise InputError(
            f"not valid YAML: control character U+{exc.character:04X} is not allowed"
            if isinstance(exc.character, int)
            else f"not valid YAML: {exc.reason}",
            file=name,
            line=_line_of_position(text, exc.position),
            expected="printable text (no control characters)",
        ) from None
    try:
        root = loader.get_single_node()
        lines = _check_keys(root)
        data = loader.construct_document(root) if root is not None else None
    except _Refused as exc:
        raise InputError(
            exc.message,
            file=name,
            line=exc.line,
            column=_column(exc.path),
            expected=exc.expected,
        ) from None
    except yaml.reader.ReaderError as exc:  # pragma: no cover - checked at start
        raise InputError(
            f"not valid YAML: {exc.reason}",
            file=name,
            line=_line_of_position(text, exc.position),
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be read"
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        if "'\\t'" in problem:
            problem = "a tab where YAML needs spaces"
        raise InputError(
            f"not valid YAML: {' '.join(problem.split())}",
            file=name,
            line=mark.line + 1 if mark is not None else None,
            expected="key: value lines as evsynth init writes them, indented "
            "with spaces",
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error is marked
        raise InputError(
            f"not valid YAML: {' '.join(str(exc).split())}", file=name
        ) from None
    finally:
        loader.dispose()
    return YamlDocument(data, lines)


def read_yaml(path: str | Path, *, max_bytes: int = MAX_YAML_BYTES) -> YamlDocument:
    """Read a YAML file strictly: size, encoding, aliases, duplicate keys.

    Parameters
    ----------
    path : str or Path
        The file; named as given in messages.
    max_bytes : int
        Largest file accepted.

    Returns
    -------
    YamlDocument
        The data and the line of every key.

    Raises
    ------
    InputError
        If the file is missing, unreadable, too large, not UTF-8 or breaks any
        rule of :func:`parse_yaml`.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"file is {size:,} bytes, too large for a YAML settings file",
                file=path,
                expected=f"at most {max_bytes:,} bytes",
            )
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc}", file=path) from None
    if len(raw) > max_bytes:
        raise InputError(
            "file is too large for a YAML settings file",
            file=path,
            expected=f"at most {max_bytes:,} bytes",
        )
    return parse_yaml(decode_utf8(raw, path, "a config saved as UTF-8"), path)


def read_yaml_mapping(
    path: str | Path,
    *,
    expected: str = "keys such as review_dir, records, screening",
) -> YamlDocument:
    """Read a YAML file that must be a mapping of keys (a config), strictly.

    An empty file is an empty mapping.

    Parameters
    ----------
    path : str or Path
        The file.
    expected : str
        What the mapping should hold, for the message if it is not one.

    Returns
    -------
    YamlDocument
        The mapping (a dict) and the line of every key.

    Raises
    ------
    InputError
        As :func:`read_yaml`, or if the document is a list or a single value.
    """
    document = read_yaml(path)
    if document.data is None:
        document.data = {}
    if not isinstance(document.data, dict):
        raise InputError(
            "not a YAML mapping of keys",
            file=path,
            line=1,
            expected=expected,
        )
    return document
