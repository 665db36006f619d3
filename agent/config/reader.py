"""Read metrics.yaml's text into data and a line index, bounded so no file can hang or
crash ``validate``.

The file is UTF-8 of at most ``MAX_BYTES``; mappings and lists nest at most
``MAX_DEPTH`` deep; aliases may not refer to themselves and together may not expand the
document past ``MAX_NODES`` values (a "billion laughs" file is refused in milliseconds);
a key appears once per mapping. Keys are read as the text written, so ``yes:`` names the
metric ``yes`` rather than the boolean YAML 1.1 would make of it. Every refusal is a
Problem at its line that never quotes the file.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from agent.errors import ConfigError, Problem

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "Path_", "read_yaml", "section"]

Path_ = tuple[str | int, ...]
MAX_BYTES = 1_000_000
"""Largest metrics.yaml read (a file of 500 metrics is about 200 KB)."""
MAX_DEPTH = 32
"""Deepest nesting of mappings and lists (the schema itself needs 7)."""
MAX_NODES = 200_000
"""Most values the document may hold once its aliases are expanded."""
_MERGE = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """Reading stopped at ``line`` for ``reason``."""

    def __init__(self, line: int | None, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.line, self.reason, self.hint = line, reason, hint


def read_yaml(raw: bytes, shown: str) -> tuple[dict[Path_, int], Any]:
    """The document of ``raw`` and the 1-based line of every key path in it."""
    try:
        loader = _Loader(_text(raw))
        try:
            node = loader.get_single_node()
            _check_expansion(node)
            lines = dict(_index(node, ()))
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except _Refused as exc:
        raise ConfigError([Problem(shown, exc.line, None, exc.reason, exc.hint)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(exc, raw, shown)]) from None
    if loader.duplicates:
        raise ConfigError([Problem(shown, *dup) for dup in loader.duplicates])
    return lines, data


def section(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a mapping, else empty: cross-field checks read the raw
    document, whose shape the schema reports on its own."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _text(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise _Refused(
            None,
            f"the file is {len(raw):,} bytes; metrics.yaml may be at most {MAX_BYTES:,}",
            "split long playbooks or SQL into fewer lines, or remove unused metrics",
        )
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _Refused(
            line,
            f"byte 0x{raw[exc.start]:02x} is not UTF-8 text",
            "save metrics.yaml as UTF-8",
        ) from None


def _yaml_problem(exc: yaml.YAMLError, raw: bytes, shown: str) -> Problem:
    """A parser error as a Problem: its line and reason, never the snippet of the file."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    if isinstance(exc, yaml.reader.ReaderError):
        line = raw.decode("utf-8", "replace").count("\n", 0, exc.position) + 1
        return Problem(
            shown,
            line,
            None,
            f"character U+{exc.character:04X} is not allowed in YAML",
            "remove it, or write it as an escape inside double quotes",
        )
    reason = getattr(exc, "problem", None) or type(exc).__name__
    return Problem(
        shown, line, None, f"not valid YAML: {reason}", "check indentation and quoting on that line"
    )


class _PyEvents(Reader, Scanner, Parser):
    """PyYAML's own parser, where its libyaml one is not installed."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


try:
    from yaml._yaml import CParser as _Events
except ImportError:  # pragma: no cover - PyYAML wheels ship libyaml
    _Events = _PyEvents  # type: ignore[assignment,misc]  # the C parser's stand-in


class _Loader(Composer, _Events, SafeConstructor, Resolver):
    """PyYAML's safe loading, bounded in depth and aliases, with text keys and no duplicates.

    Events come from libyaml (a 1 MB file in about a second, five times faster than
    PyYAML's own parser); the document is composed here, in Python, so depth and
    aliases are checked before anything deeper is read.
    """

    def __init__(self, text: str) -> None:
        _Events.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.depth = 0
        self.open_anchors: set[str] = set()
        self.duplicates: list[tuple[int, None, str, str]] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event: Any = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) and event.anchor in self.open_anchors:
            raise _Refused(
                line,
                f"alias *{event.anchor} refers to the value it is inside of",
                "a value cannot contain itself; copy the part you need",
            )
        if self.depth >= MAX_DEPTH:
            raise _Refused(
                line,
                f"values nest more than {MAX_DEPTH} levels deep",
                "metrics.yaml needs at most 7 levels; check the indentation and brackets",
            )
        anchor = None if isinstance(event, yaml.AliasEvent) else event.anchor
        self.depth += 1
        if anchor:
            self.open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            self.open_anchors.discard(anchor or "")

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's, with a bad scalar (``2026-13-45``, ``!!int x``) an error at its line."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:
            raise _Refused(
                node.start_mark.line + 1,
                f"{node.tag.rpartition(':')[2]} value cannot be read ({exc})",
                "quote it to keep it as text, or correct it",
            ) from None

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Hashable, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise _Refused(node.start_mark.line + 1, "a mapping was expected here", "")
        self._note_duplicates(node)
        self.flatten_mapping(node)
        mapping: dict[Hashable, Any] = {}
        for key_node, value_node in node.value:
            mapping[_key(key_node)] = self.construct_object(value_node, deep=deep)
        return mapping

    def _note_duplicates(self, node: yaml.MappingNode) -> None:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key, line = _key(key_node), key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(
                    (
                        line,
                        None,
                        f"key {key!r} is defined twice, on lines {seen[key]} and {line}",
                        "keep one of them: YAML would silently use the last",
                    )
                )
            else:
                seen[key] = line


def _key(node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise _Refused(node.start_mark.line + 1, "a key must be plain text", "write `name: value`")
    return str(node.value)


def _check_expansion(node: yaml.Node | None) -> None:
    """Refuse a document whose aliases expand it past MAX_NODES values."""
    sizes: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        if id(n) not in sizes:
            children: list[yaml.Node] = []
            if isinstance(n, yaml.MappingNode):
                children = [part for pair in n.value for part in pair]
            elif isinstance(n, yaml.SequenceNode):
                children = n.value
            sizes[id(n)] = 1 + sum(size(child) for child in children)
        return sizes[id(n)]

    if node is not None and size(node) > MAX_NODES:
        raise _Refused(
            None,
            f"its aliases expand it to more than {MAX_NODES:,} values",
            "use fewer or smaller aliases (*name); write the repeated parts out",
        )


def _index(node: yaml.Node | None, at: Path_) -> Iterator[tuple[Path_, int]]:
    """Every key path of the document with the 1-based line it starts on."""
    if node is None:
        return
    yield at, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*at, _key(key))
            yield path, key.start_mark.line + 1
            yield from ((p, ln) for p, ln in _index(value, path) if p != path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _index(item, (*at, i))
