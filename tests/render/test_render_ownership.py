"""The manifest of rendered files: what a render may remove, and what it must leave."""

from __future__ import annotations

import json
from pathlib import Path

from btai_ops.render.output import MANIFEST, compare, read_manifest, write

GROUPS = {"kubernetes", "compose"}


def test_files_of_groups_not_rendered_now_stay_owned(tmp_path: Path) -> None:
    write({"kubernetes/a.yaml": "a\n", "compose/c.yml": "c\n"}, tmp_path, GROUPS)
    # `--only k8s`: the Compose file is neither removed nor forgotten.
    write({"kubernetes/a.yaml": "a2\n"}, tmp_path, {"kubernetes"})
    assert (tmp_path / "compose/c.yml").read_text() == "c\n"
    assert set(read_manifest(tmp_path)) == {"kubernetes/a.yaml", "compose/c.yml"}
    # Rendering every group again without it removes it: it is render's own.
    write({"kubernetes/a.yaml": "a2\n"}, tmp_path, GROUPS)
    assert not (tmp_path / "compose/c.yml").exists()


def test_a_manifest_naming_paths_outside_the_folder_removes_nothing_there(
    tmp_path: Path,
) -> None:
    root = tmp_path / "deploy"
    outside = tmp_path / "precious.txt"
    outside.write_text("keep\n")
    write({"kubernetes/a.yaml": "a\n"}, root, GROUPS)
    manifest = json.loads((root / MANIFEST).read_text())
    manifest["files"]["../precious.txt"] = "sha256:whatever"
    manifest["files"][str(outside)] = "sha256:whatever"
    (root / MANIFEST).write_text(json.dumps(manifest))
    write({"kubernetes/a.yaml": "a\n"}, root, GROUPS)
    assert outside.read_text() == "keep\n"


def test_without_a_manifest_nothing_is_removed_and_check_asks_for_one(tmp_path: Path) -> None:
    (tmp_path / "kubernetes").mkdir()
    (tmp_path / "kubernetes/old.yaml").write_text("kind: Old\n")
    found = compare({"kubernetes/a.yaml": "a\n"}, tmp_path, GROUPS)
    assert found.unknown == ["kubernetes/old.yaml"]
    assert any(MANIFEST in diff for diff in found.diffs)
    write({"kubernetes/a.yaml": "a\n"}, tmp_path, GROUPS)
    assert (tmp_path / "kubernetes/old.yaml").read_text() == "kind: Old\n"
    assert compare({"kubernetes/a.yaml": "a\n"}, tmp_path, GROUPS).diffs == []
