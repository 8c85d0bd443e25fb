"""Loaded by the Locust processes that `btai loadtest` starts (never by the CLI itself).

It records every request into exact-to-1% histograms per endpoint, runs the test for
BTAI_LOADSTATS_DURATION seconds, and writes `live.json` every second and `final.json` at the
end into BTAI_LOADSTATS_DIR. When the time is up the master fixes a cutoff and tells the
workers: a request answered after it is left out of every figure (counted apart), so no
latency includes the teardown. Each process also measures its own event-loop lag: a
generator too busy to wake its users on time shows it there, whatever its CPU.

Workers (`--processes`, or remote ones that join a master) send
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
_CUTOFF = "btai_cutoff"
_LAG_TICK_S = 0.01
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
_ending = {"state": "interrupted"}  # "finished" once the run lasted its whole duration


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


def failure_reason(exception: BaseException, response: Any) -> str:
    """`HTTP 404` for an error status, else the exception's type and first line."""
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and status >= 400:
        return f"HTTP {status}"
    lines = str(exception).strip().splitlines()
    return f"{type(exception).__name__}: {lines[0][:120]}" if lines else type(exception).__name__


def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    exception: BaseException | None = None,
    context: dict[str, Any] | None = None,
    start_time: float | None = None,
    response: Any = None,
    **_: Any,
) -> None:
    _recording.record(
        method=request_type,
        name=name,
        response_ms=float(response_time or 0.0),
        error=None if exception is None else failure_reason(exception, response),
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


def _measure_loop_lag() -> None:
    """How late a short timer fires: the time this process spends on other greenlets before
    it gets back to one whose turn has come, which is what an answer waits before its user
    times it (plus about 1 ms of the poller's own rounding)."""
    while not _recording.cutoff:
        before = time.perf_counter()
        gevent.sleep(_LAG_TICK_S)
        lag_ms = max(0.0, (time.perf_counter() - before - _LAG_TICK_S) * 1000.0)
        if not _recording.cutoff:
            _recording.loop_lag.record(lag_ms)


def _set_cutoff(at: float) -> None:
    _recording.cutoff = _recording.cutoff or at


def _run_for_duration(environment: Any) -> None:
    gevent.sleep(_duration)
    runner = environment.runner
    _set_cutoff(time.time())
    _ending["state"] = "finished"
    if isinstance(runner, MasterRunner):
        runner.send_message(_CUTOFF, {"at": _recording.cutoff})
    runner.stop()  # a master waits here until every worker reported its last recording
    _write("final.json", _ending["state"])
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
    if isinstance(runner, WorkerRunner):
        runner.register_message(_CUTOFF, lambda msg, **_: _set_cutoff(float(msg.data["at"])))
    gevent.spawn(_snapshot_loop, environment)


def _on_test_start(environment: Any, **_: Any) -> None:
    _recording.started_at = time.time()
    if not isinstance(environment.runner, MasterRunner):  # a master sends nothing itself
        gevent.spawn(_measure_loop_lag)
    if _duration > 0 and not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_run_for_duration, environment)


def _on_test_stop(environment: Any, **_: Any) -> None:
    _set_cutoff(time.time())  # stopped early (Ctrl-C): the same rule for what is in flight
    _recording.ended_at = time.time()
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        # Sent before the worker reports "client_stopped", so the master has it in time.
        runner.send_message(_MESSAGE, _recording.to_dict())
    else:
        _write("final.json", _ending["state"])


def _on_quitting(environment: Any, **_: Any) -> None:
    _set_cutoff(time.time())
    if not isinstance(environment.runner, WorkerRunner):
        _write("final.json", _ending["state"])


events.request.add_listener(_on_request)
events.init.add_listener(_on_init)
events.test_start.add_listener(_on_test_start)
events.test_stop.add_listener(_on_test_stop)
events.quitting.add_listener(_on_quitting)
