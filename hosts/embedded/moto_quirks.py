"""One difference between moto's interpreter and Step Functions, evened out.

On AWS a stopped execution is ABORTED, whatever the task that was running then
does. In moto (pinned ``==5.2.5``) a task that fails after StopExecution turns
the stopped execution into FAILED (``Environment.set_error`` overwrites the
stopped state). A run cancelled during a step must read as cancelled, as on AWS,
so a stopped execution keeps its stopped state. ``install`` is idempotent and
fails loudly if the method moved.
"""

from __future__ import annotations

import threading
from typing import Any

from catdog.errors import ConfigurationError

_lock = threading.Lock()
_installed = False


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        try:
            from moto.stepfunctions.parser.asl.eval.environment import Environment
            from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
        except ImportError as exc:  # pragma: no cover - only when moto is changed under us
            raise ConfigurationError(f"moto's interpreter moved: {exc}") from exc
        original = getattr(Environment, "set_error", None)
        if original is None:
            raise ConfigurationError("moto's Environment.set_error no longer exists")

        def set_error(self: Any, error: Any) -> None:
            if isinstance(getattr(self, "_program_state", None), ProgramStopped):
                return  # stopped stays stopped (ABORTED), as on AWS
            original(self, error)

        # Patching moto's interpreter on purpose; mypy forbids assigning to a method.
        Environment.set_error = set_error  # type: ignore[method-assign]  # see above
        _installed = True
