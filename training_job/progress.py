"""What a training run tells its run record while it works: the phase it is in, how
many images it has decoded, and how far it is within an epoch.

Frequent reports (images decoded, batches) are throttled to one per ``interval_s``
seconds, so a fast job does not turn every batch into a storage write; a phase's
first report and every epoch's end always go out.
"""

from __future__ import annotations

from collections.abc import Callable

from catdog.clock import Clock, utc_now
from catdog.domain import RunPhase, RunProgress
from catdog.settings import Settings

ProgressReporter = Callable[[RunProgress], None]
Timer = Callable[[], float]


class RunReporter:
    """Sends ``RunProgress`` reports to ``report`` (nothing when it is None)."""

    def __init__(
        self,
        report: ProgressReporter | None,
        *,
        clock: Clock = utc_now,
        timer: Timer,
        interval_s: float = Settings.progress_interval_seconds,
    ) -> None:
        self.report = report
        self.clock = clock
        self.timer = timer
        self.interval_s = interval_s
        self._last: float | None = None
        self._epoch_end: RunProgress | None = None  # the last epoch's end reported

    def phase(self, phase: RunPhase, *, done: int | None = None, total: int | None = None) -> None:
        """The run entered ``phase`` (always reported, with the last epoch reported)."""
        at = self.clock()
        self.send(RunProgress.phase_only(phase, at, done=done, total=total, after=self._epoch_end))

    def decoded(self, done: int, total: int) -> None:
        """``done`` of ``total`` images decoded (throttled, except the last)."""
        if done >= total or self.due():
            self.send(
                RunProgress.phase_only(RunPhase.DECODING, self.clock(), done=done, total=total)
            )

    def due(self) -> bool:
        """True at most once per ``interval_s``: whether a throttled report may go out now."""
        now = self.timer()
        return self._last is None or now - self._last >= self.interval_s

    def send(self, progress: RunProgress) -> None:
        self._last = self.timer()
        if progress.finishes_epoch:
            self._epoch_end = progress
        if self.report is not None:
            self.report(progress)
