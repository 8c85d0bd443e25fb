"""constraints.txt pins every dependency by version, so a fresh machine can install it."""

import re
from pathlib import Path

CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints.txt"
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!_-]+$")


def test_every_pin_is_a_name_and_a_version() -> None:
    lines = [line for line in CONSTRAINTS.read_text().splitlines() if line.strip()]
    assert lines
    bad = [line for line in lines if not PIN.match(line)]
    assert not bad, f"constraints.txt lines that point at a file or URL: {bad}"
