"""Where an error is in its file: the line and column of the value a record path names, from the parser's marks.

Only files with errors are read again, and each once: their text is composed into YAML nodes (JSON is read the
same way, as YAML 1.2 is a superset of it; a JSON file YAML cannot read keeps the path alone).
"""

import dataclasses
import re
from pathlib import Path

import yaml

from .rules import SeedError
from .seeds import SeedLoader, decode

# One step of a record path: `[3]` (a list item, or a mapping's integer key), `[key]` (a mapping's key itself, as
# pydantic names it) or a field.
_STEP = re.compile(r"\[(-?\d+)\]|\.?\[key\]|\.?([^.\[]+)")


def steps(path: str) -> list[int | str | None] | None:
    """`meetings[0].delegations[1].head` -> ['meetings', 0, 'delegations', 1, 'head'] (None for `[key]`); None
    for a path that names no place in a file (`persons[key=x]`, a record found in a database)."""
    out: list[int | str | None] = []
    at = 0
    while at < len(path):
        match = _STEP.match(path, at)
        if match is None or match.end() == at:
            return None
        index, name = match.groups()
        out.append(int(index) if index is not None else name)
        at = match.end()
    return out


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def node_at(root: yaml.Node, path: str) -> yaml.Node | None:
    """The node a record path names, or the deepest one on the way when the rest is missing (a required field
    left out points at its record); None when the path names no place."""
    walk = steps(path)
    if walk is None:
        return None
    node, key_node = root, None
    for step in walk:
        if step is None:  # the key itself
            if key_node is None:
                return node
            node = key_node
        elif isinstance(step, int) and isinstance(node, yaml.SequenceNode) and 0 <= step < len(node.value):
            node = node.value[step]
        elif isinstance(node, yaml.MappingNode):  # a field, or an integer key (`labels: {7: x}`)
            name = str(step)
            pair = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == name), None)
            if pair is None:
                return node
            key_node, node = pair
        else:
            return node
    return node


class Locator:
    """Finds the line and column of record paths, composing each file once."""

    def __init__(self) -> None:
        self.roots: dict[str, yaml.Node | None] = {}

    def root(self, file: str) -> yaml.Node | None:
        if file not in self.roots:
            try:
                self.roots[file] = yaml.compose(decode(Path(file).read_bytes()), Loader=SeedLoader)
            except (OSError, ValueError, yaml.YAMLError, RecursionError):
                self.roots[file] = None
        return self.roots[file]

    def at(self, file: str, path: str) -> tuple[int, int] | None:
        root = self.root(file) if path else None
        node = node_at(root, path) if root is not None else None
        return _mark(node) if node is not None else None

    def locate(self, error: SeedError) -> SeedError:
        """`error` with the line and column of its value, when its file and path name one."""
        if error.line:
            return error
        found = self.at(error.file, error.path)
        return dataclasses.replace(error, line=found[0], column=found[1]) if found else error

    def where(self, file: str, path: str) -> str:
        """`file:line:col` of a record path, or `file: path` when it has no position."""
        found = self.at(file, path)
        return f"{file}:{found[0]}:{found[1]}" if found else f"{file}: {path}"
