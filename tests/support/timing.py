"""How long tests wait: one scale for every start-up wait and deadline, sized for the machine.

`BTAI_TEST_TIMEOUT_SCALE` sets it; without it the scale follows the load average per core, so a
machine busy with another test run waits longer instead of failing. Deadlines only bound waits
for an outcome; no test asserts how long something took.
"""

from __future__ import annotations

import os

SCALE_ENV = "BTAI_TEST_TIMEOUT_SCALE"
MAX_LOAD_SCALE = 6.0


def timeout_scale() -> float:
    """The factor every test wait is multiplied by (at least 1)."""
    configured = os.environ.get(SCALE_ENV)
    if configured:
        return max(1.0, float(configured))
    try:
        load = os.getloadavg()[0]
    except OSError:
        return 1.0
    per_core = load / (os.cpu_count() or 1)
    return min(MAX_LOAD_SCALE, max(1.0, per_core))


def scaled(seconds: float) -> float:
    """`seconds` stretched for how busy the machine is now."""
    return seconds * timeout_scale()
