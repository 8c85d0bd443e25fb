"""Stable text for rendered files, and writing or comparing them on disk.

The same data always gives the same bytes: mapping keys sorted, block style, no line wrapping,
multi-line strings as literal blocks, JSON with sorted keys and a trailing newline.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

Files = dict[str, str]


class StableDumper(yaml.SafeDumper):
    """Sorted keys, indented lists, literal blocks for multi-line text."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        # Shared dicts (selectors) are written out in full: manifests are read by people.
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


StableDumper.add_representer(str, _str)


def to_yaml(*documents: Any) -> str:
    """One or more YAML documents, separated by `---`."""
    return "---\n".join(
        yaml.dump(doc, Dumper=StableDumper, sort_keys=True, default_flow_style=False, width=10_000)
        for doc in documents
    )


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(files: Mapping[str, str], root: Path, groups: set[str]) -> list[Path]:
    """Write `files` under `root`; files no longer rendered in `groups` are removed."""
    written = []
    for stale in _existing(root, groups) - set(files):
        (root / stale).unlink()
    for rel, text in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def compare(files: Mapping[str, str], root: Path, groups: set[str]) -> list[str]:
    """Unified diffs between `files` and what is on disk under `root` (empty when equal)."""
    diffs = []
    for rel in sorted(set(files) | _existing(root, groups)):
        path = root / rel
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        new = files.get(rel, "")
        if old == new and (path.is_file() or rel not in files):
            continue
        diffs.append(
            "".join(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"{path} (on disk)" if path.is_file() else "/dev/null",
                    tofile=f"{path} (rendered)" if rel in files else "/dev/null",
                )
            )
        )
    return diffs


def _existing(root: Path, groups: set[str]) -> set[str]:
    found: set[str] = set()
    for group in groups:
        directory = root / group
        if directory.is_dir():
            found.update(
                p.relative_to(root).as_posix() for p in directory.rglob("*") if p.is_file()
            )
    return found
