"""Every documented exit code, each produced by a real `btai` command in its own process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from btai_ops import errors
from tests.support.server import BTAI
from tests.support.services import free_port
from tests.support.timing import scaled

DOCUMENTED = {0, 1, 2, 3, 4, errors.EXIT_INTERRUPTED}


def _commands(tmp_path: Path) -> dict[int, list[str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    return {
        0: ["--version"],
        1: ["render", "--env", "development", "--check", str(tmp_path / "empty")],
        2: ["render", "--env", "development", "--out", str(a_file / "deploy")],
        3: ["health", f"http://127.0.0.1:{free_port()}"],
        4: ["--version"],  # with the fault below
    }


# Exit 4 is for a bug: no command should produce it, so the test brings one in. The child runs
# the real entry point with the version made to fail when printed, as a bug would.
INTERNAL_FAULT = (
    "import sys; from btai_ops import cli\n"
    "class Broken:\n"
    "    def __format__(self, spec): raise RuntimeError('injected fault')\n"
    "cli.__version__ = Broken()\n"
    "sys.argv = ['btai', *sys.argv[1:]]\n"
    "cli.main()\n"
)


def _argv(code: int, tmp_path: Path) -> list[str]:
    argv = _commands(tmp_path)[code]
    if code == 4:
        return [sys.executable, "-c", INTERNAL_FAULT, *argv]
    return [BTAI, *argv]


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4])
def test_each_exit_code_comes_from_a_real_command(code: int, tmp_path: Path) -> None:
    result = subprocess.run(
        _argv(code, tmp_path), capture_output=True, text=True, timeout=scaled(120), check=False
    )
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if code:
        assert result.stderr.strip().splitlines()[-1].startswith("Error: "), result.stderr


def test_ctrl_c_exits_130() -> None:
    watch = subprocess.Popen(
        [BTAI, "health", f"http://127.0.0.1:{free_port()}", "--watch", "0.2", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert watch.stdout is not None
    for line in watch.stdout:  # the first view is out: the command is watching
        if line.startswith("}"):
            break
    watch.send_signal(signal.SIGINT)
    _, err = watch.communicate(timeout=scaled(30))
    assert watch.returncode == errors.EXIT_INTERRUPTED
    assert err == ""


def test_each_error_class_carries_its_documented_code() -> None:
    codes = {
        errors.BtaiError: 1,
        errors.UsageProblem: 2,
        errors.ConfigError: 2,
        errors.ServiceUnreachable: 3,
        errors.InternalError: 4,
    }
    assert {kind: kind("x").exit_code for kind in codes} == codes
    assert set(codes.values()) | {0, errors.EXIT_INTERRUPTED} == DOCUMENTED
    assert all(f"({code})" in (errors.__doc__ or "") for code in codes.values())


def test_an_error_reported_by_a_child_process_keeps_its_class() -> None:
    from btai_ops.serve import _ERRORS

    assert set(_ERRORS.values()) == {errors.BtaiError, *errors.BtaiError.__subclasses__()}


@pytest.mark.parametrize("argv", [[], ["db"]])
def test_a_group_called_with_nothing_to_do_prints_its_help_and_exits_2(argv: list[str]) -> None:
    result = subprocess.run([BTAI, *argv], capture_output=True, text=True, timeout=scaled(60))
    assert result.returncode == 2
    assert result.stderr.startswith(f"Usage: btai {' '.join(argv)}".rstrip() + " [OPTIONS]")
    assert "Commands:" in result.stderr
