"""Keeping moto's interpreter from holding on to finished executions: flat memory.

moto keeps every execution (with a copy of the state machine and its event
history) in ``StateMachine.executions`` of the backend its server serves, two
threads per execution in a module-level list, and every model object it ever
created (the state machine copies too) for its dashboard. Once an execution is
archived it is removed from all three; Step Functions calls for it then answer
ExecutionDoesNotExist and the orchestrator reads the archive instead. These are
internal to moto (pinned ``==5.2.5``): each function fails loudly if they move.
"""

from __future__ import annotations

import threading
from typing import Any

from catdog.errors import ConfigurationError

_lock = threading.Lock()


def _backend(account: str, region: str) -> Any:
    try:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends
    except ImportError as exc:  # pragma: no cover - only when moto is changed under us
        raise ConfigurationError(f"moto's Step Functions interpreter is gone: {exc}") from exc
    return stepfunctions_parser_backends[account][region]


def _state_machine(execution_arn: str) -> Any:
    """``arn:aws:states:<region>:<account>:execution:<machine>:<name>`` -> its machine."""
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[5] != "execution":
        raise ConfigurationError(f"not an execution ARN: {execution_arn}")
    region, account, machine = parts[3], parts[4], parts[6]
    backend = _backend(account, region)
    for state_machine in getattr(backend, "state_machines", []):
        if getattr(state_machine, "name", None) == machine:
            if not isinstance(getattr(state_machine, "executions", None), list):
                raise ConfigurationError("moto's StateMachine.executions is no longer a list")
            return state_machine
    return None


def forget_execution(execution_arn: str) -> bool:
    """Drop a finished execution from the interpreter; False when it runs or is gone."""
    state_machine = _state_machine(execution_arn)
    if state_machine is None:
        return False
    with _lock:
        for execution in list(state_machine.executions):
            if execution.execution_arn != execution_arn:
                continue
            if str(getattr(execution, "status", "RUNNING")) == "RUNNING":
                return False
            state_machine.executions.remove(execution)
            return True
    return False


def held_executions(state_machine_arn: str) -> int:
    """How many executions the interpreter holds for this state machine (for tests)."""
    parts = state_machine_arn.split(":")
    backend = _backend(parts[4], parts[3])
    for state_machine in getattr(backend, "state_machines", []):
        if state_machine.arn == state_machine_arn:
            return len(state_machine.executions)
    return 0


def prune_finished_threads() -> int:
    """moto's interpreter appends two threads per execution to a module-level list
    (``moto.stepfunctions.parser.utils.TMP_THREADS``) and never removes them; drop the
    finished ones (in place: every module shares that list). Returns how many."""
    try:
        from moto.stepfunctions.parser.utils import TMP_THREADS
    except ImportError as exc:  # pragma: no cover - only when moto is changed under us
        raise ConfigurationError(f"moto's interpreter thread list moved: {exc}") from exc
    with _lock:
        before = len(TMP_THREADS)
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
        return before - len(TMP_THREADS)


def release_model_tracking() -> None:
    """moto records every model object it creates (``BaseModel.instances_tracked``, for
    its dashboard, which catdog does not use), including the copy of the state machine
    each execution takes: without this, those copies are never freed."""
    try:
        from moto.core.model_instances import reset_model_data
    except ImportError as exc:  # pragma: no cover - only when moto is changed under us
        raise ConfigurationError(f"moto's model tracking moved: {exc}") from exc
    reset_model_data()
