"""Stable text for rendered files, and writing or comparing them on disk.

The same data always gives the same bytes: mapping keys sorted, block style, no line wrapping,
multi-line strings as literal blocks, JSON with sorted keys and a trailing newline.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


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


MANIFEST = ".btai-render.json"


@dataclass(frozen=True)
class Comparison:
    """What `--check` found in one environment's folder."""

    diffs: list[str]
    unknown: list[str]  # files render never wrote: named, never read


def read_manifest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file the last render wrote under `root`."""
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items() if _inside(str(k))}


def write(files: Mapping[str, str], root: Path, groups: set[str]) -> list[Path]:
    """Write `files` under `root` and record them in the manifest.

    Only files an earlier render recorded, still unchanged since, are removed when no longer
    rendered: secrets, `.env` and hand-written manifests beside them are never touched."""
    previous = read_manifest(root)
    for stale in sorted(set(previous) - set(files)):
        if _group(stale) in groups:
            _remove_if_unchanged(root / stale, previous[stale])
    written = [_write_if_changed(root / rel, text) for rel, text in sorted(files.items())]
    kept = {
        rel: digest
        for rel, digest in previous.items()
        if _group(rel) not in groups and (root / rel).is_file()
    }
    owned = {**kept, **{rel: _digest(text) for rel, text in files.items()}}
    (root / MANIFEST).write_text(
        to_json({"generator": "btai render", "files": dict(sorted(owned.items()))}),
        encoding="utf-8",
    )
    return written


def _remove_if_unchanged(path: Path, digest: str) -> None:
    if path.is_file() and _digest_of(path) == digest:
        path.unlink()


def _write_if_changed(path: Path, text: str) -> Path:
    """Write `text` to `path` unless it already holds it (its mtime then stays)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def compare(files: Mapping[str, str], root: Path, groups: set[str]) -> Comparison:
    """Unified diffs between `files` and the files render owns under `root`.

    A file render did not write is listed in `unknown` by name only: its content (a secret, a
    `.env`) is never read, let alone printed."""
    previous = read_manifest(root)
    owned = {rel for rel in previous if _group(rel) in groups}
    diffs = [
        diff
        for rel in sorted(set(files) | owned)
        if (diff := _diff(root / rel, files.get(rel))) is not None
    ]
    if files and set(files) - set(previous):
        recorded = ", ".join(sorted(set(files) - set(previous)))
        diffs.append(f"{root / MANIFEST}: does not record {recorded}\n")
    unknown = sorted(_existing(root, groups) - set(files) - owned)
    return Comparison(diffs, unknown)


def _diff(path: Path, rendered: str | None) -> str | None:
    """The unified diff from `path` on disk to what was `rendered` (None: not rendered, so to
    be removed); None when they agree."""
    on_disk = path.is_file()
    old = path.read_text(encoding="utf-8") if on_disk else ""
    new = rendered or ""
    if old == new and (on_disk or rendered is None):
        return None
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{path} (on disk)" if on_disk else "/dev/null",
            tofile=f"{path} (rendered)" if rendered is not None else "/dev/null",
        )
    )


def _existing(root: Path, groups: set[str]) -> set[str]:
    found: set[str] = set()
    for group in groups:
        directory = root / group
        if directory.is_dir():
            found.update(
                p.relative_to(root).as_posix() for p in directory.rglob("*") if p.is_file()
            )
    return found


def _group(rel: str) -> str:
    return rel.split("/", 1)[0]


def _inside(rel: str) -> bool:
    """A manifest entry names a file below the folder, never `..` or an absolute path."""
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
