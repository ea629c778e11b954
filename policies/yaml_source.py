"""Read a pack file into plain data while remembering the line of every key and list item.

PyYAML's `safe_load` forgets positions, and a validation error without a line sends the pack
author hunting; composing the node tree first keeps the marks, so any later error that carries
a data path (a pydantic `loc`, a rule's position) can be turned back into a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from policies.errors import PackError, PackRejected

Path = tuple[str | int, ...]
MAX_DEPTH = 40
# libyaml composes ten times faster and keeps the same marks; PyYAML falls back without it.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STRING = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class SourceDocument:
    file: str
    data: dict[str, Any]
    lines: dict[Path, int]

    def line_of(self, loc: Sequence[object]) -> int | None:
        """The line of the deepest part of `loc` that exists in the file.

        Validation locations may contain steps that are not in the file (a union member's
        name, a missing key); those are skipped, so the answer is the nearest enclosing line.
        """
        path: Path = ()
        best = self.lines.get(path)
        for step in loc:
            if not isinstance(step, str | int):
                continue
            candidate = (*path, step)
            if candidate in self.lines:
                path = candidate
                best = self.lines[candidate]
        return best

    def error(self, loc: Sequence[object], reason: str) -> PackError:
        return PackError(self.file, self.line_of(loc), reason)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path, int] = {}
        self.errors: list[PackError] = []
        self._scalars = SafeConstructor()

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if len(path) > MAX_DEPTH:
            self.errors.append(
                PackError(self.file, node.start_mark.line + 1, "the document nests too deeply")
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == _STRING:  # most scalars; the constructor would only copy them
            return node.value
        return self._scalars.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.errors.append(PackError(self.file, line, "a key must be a plain value"))
                continue
            key = self._scalars.construct_object(key_node)
            if not isinstance(key, str | int) or isinstance(key, bool):
                self.errors.append(PackError(self.file, line, f"key {key!r} is not a name"))
                continue
            if key in result:
                self.errors.append(PackError(self.file, line, f"key '{key}' appears twice"))
                continue
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result


def read_yaml(text: str, file: str) -> SourceDocument:
    """Parse one YAML (or JSON) document whose top level is a mapping."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        raise PackRejected([PackError(file, line, f"YAML syntax error: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise PackRejected([PackError(file, None, f"YAML error: {exc}")]) from None
    if node is None:
        raise PackRejected([PackError(file, None, "the file is empty")])
    builder = _Builder(file)
    data = builder.build(node, ())
    if builder.errors:
        raise PackRejected(builder.errors)
    if not isinstance(data, dict):
        raise PackRejected([PackError(file, 1, "the top level must be a mapping of fields")])
    return SourceDocument(file=file, data=data, lines=builder.lines)
