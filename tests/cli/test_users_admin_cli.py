"""`btai users list|disable|enable` on real SQLite and PostgreSQL databases, as a person runs
them."""

import json
import subprocess
import sys
from pathlib import Path

from tests.support.security import STRONG_PASSWORD

BTAI = str(Path(sys.executable).with_name("btai"))


def _btai(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url}
    return subprocess.run(
        [BTAI, "users", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def test_list_disable_and_enable_an_account(accounts_db: str) -> None:
    created = _btai(accounts_db, "create", "casey", "--password-stdin", stdin=STRONG_PASSWORD)
    assert created.returncode == 0, created.stderr
    listed = json.loads(_btai(accounts_db, "list", "--json").stdout)
    assert [(u["username"], u["active"]) for u in listed] == [("casey", True)]

    disabled = _btai(accounts_db, "disable", "Casey")
    assert disabled.returncode == 0, disabled.stderr
    assert "disabled user 'casey'" in disabled.stderr
    assert json.loads(_btai(accounts_db, "list", "--json").stdout)[0]["active"] is False
    assert "disabled" in _btai(accounts_db, "list").stdout

    assert _btai(accounts_db, "enable", "casey").returncode == 0
    assert json.loads(_btai(accounts_db, "list", "--json").stdout)[0]["active"] is True


def test_disabling_an_unknown_user_is_one_error_line(accounts_db: str) -> None:
    assert (
        _btai(accounts_db, "create", "casey", "--password-stdin", stdin=STRONG_PASSWORD).returncode
        == 0
    )
    missing = _btai(accounts_db, "disable", "nobody")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "Error: no user 'nobody' (see `btai users list`)"
