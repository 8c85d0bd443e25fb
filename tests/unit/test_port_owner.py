"""A port held by a server and its workers is named by the supervisor, not a worker."""

import os
import socket

from btai_ops.serve import port_owner


def test_port_shared_with_a_forked_worker_names_the_supervisor() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    release, hold = os.pipe()
    worker = os.fork()
    if worker == 0:  # the worker keeps the inherited socket open until told to go
        os.close(hold)
        os.read(release, 1)
        os._exit(0)
    os.close(release)
    try:
        owner = port_owner(port)
    finally:
        os.close(hold)
        os.waitpid(worker, 0)
        listener.close()
    assert owner is not None
    assert f"pid {os.getpid()}, supervising 1 worker" in owner
