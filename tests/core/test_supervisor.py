from __future__ import annotations

import sys
from pathlib import Path

from hosts.embedded.supervisor import Child, ChildSpec, Supervisor
from tests.polling import wait_until


def spec(tmp_path: Path, code: str, name: str = "child") -> ChildSpec:
    return ChildSpec(
        name, [sys.executable, "-c", code], {}, tmp_path / f"{name}.log", stop_timeout=5
    )


def test_child_output_goes_to_its_log(tmp_path: Path) -> None:
    child = Child(spec(tmp_path, "print('hello from child')"))
    child.start()
    wait_until(lambda: child.exit_code() == 0, what="the child to exit with 0", timeout=10)
    child.stop()
    assert (tmp_path / "child.log").read_text().strip() == "hello from child"


def test_stop_terminates_a_running_child(tmp_path: Path) -> None:
    child = Child(spec(tmp_path, "import time; time.sleep(60)"))
    child.start()
    pid = child.pid
    assert pid is not None and child.exit_code() is None
    child.stop()
    assert child.pid is None
    import os

    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive


def test_exited_child_is_restarted_after_backoff(tmp_path: Path) -> None:
    counter = tmp_path / "starts"
    code = f"open({str(counter)!r}, 'a').write('x')"
    child = Child(spec(tmp_path, code))
    supervisor = Supervisor([child])
    supervisor.start()
    wait_until(lambda: child.exit_code() is not None, what="the child to exit", timeout=10)
    supervisor.watch_once(now=100.0)  # notices the exit, schedules a restart in 1 s
    assert child.restarts == 0
    supervisor.watch_once(now=100.5)
    assert child.restarts == 0
    supervisor.watch_once(now=101.5)
    assert child.restarts == 1
    wait_until(
        lambda: counter.exists() and counter.read_text() == "xx",
        what="the child to be restarted once",
        timeout=10,
    )
    supervisor.stop()
