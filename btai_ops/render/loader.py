"""Read `base.yaml` + one environment overlay + `--set` into a RenderConfig, with precise errors.

Overlays merge onto the base: maps merge, lists replace, `null` deletes. Every key's line is
kept (from yaml's node marks) so an error names the file and line of the offending key.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from btai_ops.errors import ConfigError
from btai_ops.render.schema import EnvEntry, RenderConfig

Key = tuple[str | int, ...]


@dataclass
class Source:
    """One layer of configuration: its data and the line of every key it sets."""

    name: str
    data: dict[str, Any]
    lines: dict[Key, int] = field(default_factory=dict)


@dataclass
class LoadedConfig:
    environment: str
    config: RenderConfig
    merged: dict[str, Any]
    sources: list[Source]
    config_dir: Path = Path("configs")

    def where(self, path: Key) -> str:
        return locate(self.sources, path)


CONFIG_DIR_VARIABLE = "BTAI_CONFIG_DIR"


def packaged_config_dir() -> Path:
    """The configs shipped inside the installed package (`btai_ops/configs`)."""
    return Path(__file__).resolve().parents[1] / "configs"


def find_config_dir(given: Path | None = None) -> Path:
    """Where base.yaml and environments/ are, from any working directory.

    In order: `--config-dir`, $BTAI_CONFIG_DIR, `configs/` in the working directory or the
    nearest parent that has one (a project checkout), then the configs shipped in the package.
    """
    if given is not None:
        return given
    if named := os.environ.get(CONFIG_DIR_VARIABLE):
        return Path(named)
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "configs" / "base.yaml").is_file():
            return folder / "configs"
    return packaged_config_dir()


def known_environments(config_dir: Path) -> list[str]:
    return sorted(p.stem for p in (config_dir / "environments").glob("*.yaml"))


def read_yaml(path: Path, label: str | None = None) -> Source:
    """Parse one file; a syntax error names the file, line and column."""
    name = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {name}: {exc.strerror}") from None
    node, data = _parse(text, name)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{name}:1: the top level must be a mapping of keys")
    source = Source(name, data)
    if node is not None:
        _record_lines(node, (), source.lines, name)
    return source


def _parse(text: str, name: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its data."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else {})
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ConfigError(f"{where}: YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: YAML error: {exc}") from None
    finally:
        loader.dispose()


def _record_lines(node: yaml.Node, path: Key, lines: dict[Key, int], name: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{name}:{line}: duplicate key {'.'.join(map(str, (*path, key)))}"
                )
            seen.add(key)
            lines[(*path, key)] = line
            _record_lines(value_node, (*path, key), lines, name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _record_lines(item, (*path, index), lines, name)


def merge(base: Any, overlay: Any) -> Any:
    """Maps merge, lists and scalars replace, `None` in the overlay deletes the key."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = merge(merged[key], value)
            else:
                merged[key] = merge({}, value) if isinstance(value, dict) else value
        return merged
    return overlay


def parse_sets(assignments: list[str]) -> Source:
    """`--set a.b.c=value` (value parsed as YAML) into one more overlay layer."""
    data: dict[str, Any] = {}
    source = Source("--set", data)
    for assignment in assignments:
        path_text, sep, raw = assignment.partition("=")
        # `\.` keeps a dot inside a key (annotations: `ingress.annotations.a\.b/c=1`).
        parts = [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", path_text.strip())]
        if not sep or not all(parts):
            raise ConfigError(f"--set {assignment!r}: expected path.to.key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {assignment!r}: value is not valid YAML ({exc})") from None
        node = data
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {assignment!r}: {part} is already set to a value")
            node = child
        node[parts[-1]] = value
        source.lines[tuple(parts)] = 0
    return source


def locate(sources: list[Source], path: Key) -> str:
    """`file:line` of the layer that last set `path` (or its nearest parent)."""
    for end in range(len(path), -1, -1):
        prefix = path[:end]
        for source in reversed(sources):
            if prefix in source.lines:
                line = source.lines[prefix]
                return "--set" if line == 0 else f"{source.name}:{line}"
    return sources[-1].name if sources else "config"


def load_sources(config_dir: Path, environment: str, sets: list[str] | None = None) -> list[Source]:
    """base.yaml, the environment's overlay and `--set`, in the order they merge."""
    known = known_environments(config_dir)
    if environment not in known:
        shown = ", ".join(known) if known else "none"
        raise ConfigError(
            f"unknown environment {environment!r} in {config_dir}/environments",
            hint=f"known environments: {shown}",
        )
    sources = [
        read_yaml(config_dir / "base.yaml"),
        read_yaml(config_dir / "environments" / f"{environment}.yaml"),
    ]
    if sets:
        sources.append(parse_sets(sets))
    return sources


def merge_sources(sources: list[Source]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for source in sources:
        merged = merge(merged, source.data)
    return merged


def load(config_dir: Path, environment: str, sets: list[str] | None = None) -> LoadedConfig:
    """Merge base + overlay + `--set` and validate it; raises ConfigError naming the place."""
    sources = load_sources(config_dir, environment, sets)
    merged = merge_sources(sources)
    try:
        config = RenderConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(describe(exc, merged, sources)) from None
    return LoadedConfig(environment, config, merged, sources, config_dir)


def load_env(config_dir: Path, environment: str) -> dict[str, EnvEntry]:
    """Only the merged `env:` map (what `btai serve --env` needs), validated as render does."""
    from pydantic import TypeAdapter

    sources = load_sources(config_dir, environment)
    merged = merge_sources(sources)
    env = merged.get("env", {})
    try:
        return TypeAdapter(dict[str, EnvEntry]).validate_python(env)
    except ValidationError as exc:
        raise ConfigError(describe(exc, merged, sources, prefix=("env",))) from None


def describe(
    exc: ValidationError, data: dict[str, Any], sources: list[Source], prefix: Key = ()
) -> str:
    """One line per problem: `file:line: path: what is wrong`."""
    lines = []
    for err in exc.errors():
        path = _data_path((*prefix, *err["loc"]), data)
        dotted = ".".join(map(str, path)) or "(top level)"
        where = locate(sources, path)
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(_allowed_keys(path[:-1])))
            lines.append(f"{where}: {dotted}: unknown key; allowed keys: {allowed}")
        elif err["type"] == "missing":
            lines.append(f"{where}: {dotted}: required key is missing")
        else:
            given = err.get("input")
            shown = "" if isinstance(given, dict | list) else f", got {given!r}"
            lines.append(f"{where}: {dotted}: expected {_expected(err['msg'])}{shown}")
    return "; ".join(dict.fromkeys(lines))


def _expected(message: str) -> str:
    text = message.removeprefix("Input should be ").removeprefix("Value error, ")
    return text[0].lower() + text[1:] if text else message


def _data_path(loc: tuple[int | str, ...], data: Any) -> Key:
    """The error's location without pydantic's union tags (`str`, `int`, model names)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict):
            path.append(part)
            node = node.get(part) if isinstance(part, str) else None
        elif isinstance(node, list) and isinstance(part, int):
            path.append(part)
            node = node[part] if part < len(node) else None
        elif node is None and isinstance(part, str) and not path_is_tag(part):
            path.append(part)
        else:
            break
    return tuple(path)


def path_is_tag(part: str) -> bool:
    return part in {"str", "int", "float", "bool"} or not part.islower()


def _allowed_keys(path: Key) -> list[str]:
    """Field names of the model at `path` in RenderConfig."""
    annotation: Any = RenderConfig
    for part in path:
        annotation = _child(annotation, part)
        if annotation is None:
            return []
    model = _model_in(annotation)
    return list(model.model_fields) if model else []


def _child(annotation: Any, part: str | int) -> Any:
    model = _model_in(annotation)
    if model is not None:
        info = model.model_fields.get(str(part))
        return info.annotation if info else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found:
                return found
    return None


def suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f"did you mean {close[0]}?" if close else "see `btai config show`"
