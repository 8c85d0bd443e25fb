"""Loaded by the Locust processes that `btai loadtest` starts (never by the CLI itself).

It records every request into exact-to-1% histograms per endpoint, runs the test for
BTAI_LOADSTATS_DURATION seconds, and writes `live.json` every second and `final.json` at the
end into BTAI_LOADSTATS_DIR. Workers (`--processes`, or remote ones that join a master) send
their cumulative recording to the master once a second and once more when they stop, before
they tell the master they stopped, so the master's `final.json` holds every request.

With BTAI_LOADSTATS_RATE (requests/s, all generators together) users send on a fixed
schedule instead of as fast as answers come back: each request has a slot, the slot's time
is kept beside the actual send time, and a late send shows up in the corrected latency.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events as _locust_events
from locust.runners import MasterRunner, WorkerRunner

from btai_ops.loadstats.recorder import Recording

_MESSAGE = "btai_loadstats"
events: Any = _locust_events  # Locust's event hooks are untyped
_recording = Recording()
_worker_recordings: dict[str, dict[str, Any]] = {}
_out_dir = Path(os.environ["BTAI_LOADSTATS_DIR"]) if "BTAI_LOADSTATS_DIR" in os.environ else None
_duration = float(os.environ.get("BTAI_LOADSTATS_DURATION", "0") or 0)
_rate = float(os.environ.get("BTAI_LOADSTATS_RATE", "0") or 0)


class _Schedule:
    """Slots at a fixed rate, shared by every user in this process."""

    def __init__(self) -> None:
        self.t0 = 0.0
        self.next_slot = 0

    def take(self, environment: Any) -> float:
        generators = 1
        if isinstance(environment.runner, WorkerRunner):
            generators = max(1, int(getattr(environment.parsed_options, "expect_workers", 1)))
        per_process = _rate / generators
        now = time.time()
        if not self.t0:
            self.t0 = now
        slot = self.t0 + self.next_slot / per_process
        self.next_slot += 1
        return slot


_schedule = _Schedule()


def _scheduled_wait(user: Any) -> float:
    slot = _schedule.take(user.environment)
    user._btai_slot = slot
    return max(0.0, slot - time.time())


def _slot_context(user: Any) -> dict[str, Any]:
    # Only the first request after a slot was taken was scheduled for it.
    slot = getattr(user, "_btai_slot", None)
    user._btai_slot = None
    return {"btai_scheduled": slot}


def _open_model(user_class: type) -> None:
    original_on_start = user_class.on_start  # type: ignore[attr-defined]

    def on_start(self: Any) -> None:
        original_on_start(self)
        gevent.sleep(_scheduled_wait(self))

    user_class.wait_time = _scheduled_wait  # type: ignore[attr-defined]
    user_class.on_start = on_start  # type: ignore[attr-defined]
    user_class.context = _slot_context  # type: ignore[attr-defined]


def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    exception: BaseException | None = None,
    context: dict[str, Any] | None = None,
    start_time: float | None = None,
    **_: Any,
) -> None:
    _recording.record(
        method=request_type,
        name=name,
        response_ms=float(response_time or 0.0),
        error=None if exception is None else f"{type(exception).__name__}: {exception}",
        start_time=start_time,
        scheduled=(context or {}).get("btai_scheduled"),
    )


def _merged() -> Recording:
    total = Recording().merge(_recording)
    for data in list(_worker_recordings.values()):
        total.merge(Recording.from_dict(data))
    return total


def _write(name: str, state: str) -> None:
    if _out_dir is None:
        return
    data = {"state": state, "written_at": time.time(), **_merged().to_dict()}
    tmp = _out_dir / f".{name}.tmp"
    tmp.write_text(json.dumps(data))
    tmp.replace(_out_dir / name)


def _snapshot_loop(environment: Any) -> None:
    while True:
        gevent.sleep(1.0)
        _recording.ended_at = time.time()
        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            if _recording.started_at:
                runner.send_message(_MESSAGE, _recording.to_dict())
        else:
            _write("live.json", "running")


def _run_for_duration(environment: Any) -> None:
    gevent.sleep(_duration)
    runner = environment.runner
    runner.stop()  # a master waits here until every worker reported its last recording
    _write("final.json", "finished")
    runner.quit()


def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if _rate > 0:
        for user_class in environment.user_classes:
            _open_model(user_class)
    if isinstance(runner, MasterRunner):

        def receive(msg: Any, **_: Any) -> None:
            _worker_recordings[str(msg.node_id)] = msg.data

        runner.register_message(_MESSAGE, receive)
    gevent.spawn(_snapshot_loop, environment)


def _on_test_start(environment: Any, **_: Any) -> None:
    _recording.started_at = time.time()
    if _duration > 0 and not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_run_for_duration, environment)


def _on_test_stop(environment: Any, **_: Any) -> None:
    _recording.ended_at = time.time()
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        # Sent before the worker reports "client_stopped", so the master has it in time.
        runner.send_message(_MESSAGE, _recording.to_dict())
    else:
        _write("final.json", "finished")


def _on_quitting(environment: Any, **_: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):
        _write("final.json", "finished")


events.request.add_listener(_on_request)
events.init.add_listener(_on_init)
events.test_start.add_listener(_on_test_start)
events.test_stop.add_listener(_on_test_stop)
events.quitting.add_listener(_on_quitting)
