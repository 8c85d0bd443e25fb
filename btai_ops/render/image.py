"""The image settings checked against the project itself: extras it declares, the Python
versions it supports, and the extra the configured server needs."""

from __future__ import annotations

from dataclasses import dataclass

from btai_ops.errors import ConfigError
from btai_ops.render.loader import LoadedConfig, suggest

DISTRIBUTION = "btai"
# SERVER values whose server lives in an extra of the distribution.
SERVER_EXTRAS = {"granian": "granian"}


@dataclass(frozen=True)
class ProjectFacts:
    extras: frozenset[str]
    requires_python: str


def project_facts() -> ProjectFacts:
    """What the installed distribution declares (its metadata, built from pyproject.toml)."""
    from importlib.metadata import metadata

    declared = metadata(DISTRIBUTION)
    return ProjectFacts(
        extras=frozenset(declared.get_all("Provides-Extra") or ()),
        requires_python=declared["Requires-Python"] or "",
    )


def image_extras(loaded: LoadedConfig, server: str, project: ProjectFacts) -> list[str]:
    """The extras the image installs: the configured ones, checked, plus the server's own."""
    docker = loaded.config.docker
    for index, extra in enumerate(docker.extras):
        if extra not in project.extras:
            raise ConfigError(
                f"{loaded.where(('docker', 'extras', index))}: docker.extras: {extra!r} is not "
                f"an extra of {DISTRIBUTION} ({', '.join(sorted(project.extras))})",
                hint=suggest(extra, sorted(project.extras)),
            )
    extras = set(docker.extras)
    if needed := SERVER_EXTRAS.get(server):
        extras.add(needed)  # without it the container refuses to start with SERVER=granian
    return sorted(extras)


def check_python(loaded: LoadedConfig, project: ProjectFacts) -> None:
    from packaging.specifiers import SpecifierSet

    version = loaded.config.docker.python_version
    allowed = SpecifierSet(project.requires_python)
    if allowed and f"{version}.0" not in allowed:
        raise ConfigError(
            f"{loaded.where(('docker', 'python_version'))}: docker.python_version {version} is "
            f"not allowed by requires-python {project.requires_python} of {DISTRIBUTION}"
        )
