"""YAML that remembers where things were written.

PyYAML drops source positions once it has built Python objects, but a playbook error is
only useful with a line number. This SafeLoader builds mappings and sequences as `dict`
and `list` subclasses that keep the 1-based line of themselves and of each key, value
and item. Scalars stay plain `str`/`int`, so their line is asked of the container. It
also rejects duplicate keys, which plain PyYAML silently resolves to the last value.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, SequenceNode


class MarkedMap(dict):
    """A YAML mapping with `line`, `key_lines[key]` and `value_lines[key]` (1-based)."""

    line: int
    key_lines: dict[Any, int]
    value_lines: dict[Any, int]

    def key_line(self, key: Any) -> int:
        """Line of `key`, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class MarkedSeq(list):
    """A YAML sequence with `line` and `item_lines[i]` (1-based)."""

    line: int
    item_lines: list[int]


# libyaml's parser is several times faster and keeps the same marks; the pure-Python
# SafeLoader is the fallback where PyYAML was built without it.
class _MarkedLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _build(loader: _MarkedLoader, node: Any) -> Any:
    """A node's value; one that parses but cannot be built (`!!int abc`, `!!timestamp
    soon`, an integer of more digits than Python converts) is an error at its line."""
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, AttributeError) as exc:
        value = str(node.value)
        shown = value if len(value) <= 40 else value[:37] + "..."
        kind = str(node.tag).rsplit(":", 1)[-1]  # int, float, timestamp, ...
        raise ConstructorError(
            None, None, f"cannot read {shown!r} as {kind} ({exc})"[:300], node.start_mark
        ) from None


def _construct_map(loader: _MarkedLoader, node: MappingNode) -> MarkedMap:
    loader.flatten_mapping(node)  # resolves `<<` merge keys
    result = MarkedMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    result.value_lines = {}
    for key_node, value_node in node.value:
        key = _build(loader, key_node)
        try:
            hash(key)
        except TypeError:
            raise ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if key in result:
            first = result.key_lines[key]
            raise ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {first})", key_node.start_mark
            )
        result[key] = _build(loader, value_node)
        result.key_lines[key] = key_node.start_mark.line + 1
        result.value_lines[key] = value_node.start_mark.line + 1
    return result


def _construct_seq(loader: _MarkedLoader, node: SequenceNode) -> MarkedSeq:
    result = MarkedSeq(_build(loader, child) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_MarkedLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_MarkedLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_marked(text: str) -> Any:
    """Parse one YAML document; raises `yaml.MarkedYAMLError` (with a mark) when invalid.

    >>> doc = load_marked("id: x\\nsteps:\\n  - role: pr\\n")
    >>> doc.key_lines["steps"], doc["steps"].item_lines, doc["steps"][0].line
    (2, [3], 3)
    """
    return yaml.load(text, Loader=_MarkedLoader)  # a SafeLoader subclass: no arbitrary objects
