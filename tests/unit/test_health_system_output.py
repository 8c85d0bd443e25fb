"""A system check's output shows the value it judged, not only the threshold."""

import re
from collections.abc import Callable

from app.monitoring.builtin_checks import system_checks
from app.monitoring.system import SystemSampler
from app.settings import Settings


async def test_system_checks_name_the_judged_percentage(
    make_settings: Callable[..., Settings],
) -> None:
    checks = system_checks(make_settings(), SystemSampler(), "/")
    assert checks
    for check in checks:
        result = await check.run()
        assert re.match(r"^\d+\.\d% \(", result.output or ""), (check.name, result.output)
        assert f"{result.observed_value:.1f}%" in (result.output or "")
        assert "threshold 90%" in (result.output or "")
