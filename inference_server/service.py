"""The data plane: predictions, model info, reloads and reconciliation. Knows nothing of HTTP."""

from __future__ import annotations

import logging
import threading
from typing import Any

from catdog.clock import to_iso
from catdog.decision import is_unsure
from catdog.errors import ModelRejected, NotFound, ServiceUnavailable
from inference_server.batching import MicroBatcher
from inference_server.holder import ModelHolder, ServedModel
from inference_server.sources import ModelSource

log = logging.getLogger(__name__)


class InferenceService:
    """Everything the inference server does, as plain method calls raising domain errors."""

    def __init__(
        self,
        holder: ModelHolder,
        batcher: MicroBatcher,
        source: ModelSource,
        unsure_threshold: float,
        prediction_timeout_s: float = 30.0,
    ) -> None:
        self.holder = holder
        self._batcher = batcher
        self._source = source
        self._unsure_threshold = unsure_threshold
        self._timeout = prediction_timeout_s
        self._reload_lock = threading.Lock()
        self._refused: dict[str, str] = {}

    def start(self) -> None:
        """Start the batching worker; call once before predicting."""
        self._batcher.start()

    def predict(self, data: bytes) -> dict[str, Any]:
        """Classify encoded image bytes. Raises InvalidImage, ImageTooLarge, ModelNotLoaded."""
        future = self._batcher.submit(data)
        try:
            result = future.result(timeout=self._timeout)
        except TimeoutError:
            raise ServiceUnavailable("the prediction took too long") from None
        probabilities = result.probabilities
        return {
            "label": probabilities.label,
            "confidence": probabilities.confidence,
            "probabilities": probabilities.to_dict(),
            "unsure": is_unsure(probabilities.confidence, self._unsure_threshold),
            "model_version": result.model.version,
        }

    def is_ready(self) -> bool:
        return self.holder.current() is not None

    def model_info(self) -> dict[str, Any]:
        """The served model. Raises ModelNotLoaded."""
        return _describe(self.holder.require())

    def reload(self, version: str | None = None) -> dict[str, Any]:
        """Serve ``version`` (default: the source's champion) after loading and checking it.

        Reloading the version already served changes nothing. Raises NotFound
        (unknown version, no champion) or ModelRejected; either way the model
        served before keeps serving. Reloads run one at a time.
        """
        with self._reload_lock:
            target = version or self._source.default_version()
            if target is None:
                raise NotFound("there is no champion model to load")
            previous = self.holder.current()
            if previous is not None and previous.version == target:
                return {**_describe(previous), "swapped": False, "previous_version": target}
            model_dir = self._source.locate(target)
            try:
                model = self.holder.load_and_swap(model_dir, target)
            except ModelRejected as exc:
                log.warning(
                    "event=model_refused version=%s reason=%r",
                    target,
                    str(exc),
                    extra={"model_version": target},
                )
                raise
            self._refused.pop(target, None)
            return {
                **_describe(model),
                "swapped": True,
                "previous_version": previous.version if previous else None,
            }

    def reconcile_once(self) -> str | None:
        """Swap to the champion if another version is served; return the version swapped to.

        A champion that was refused is not retried here (an explicit reload
        still may), so a bad artifact costs one load, not one per period.
        """
        target = self._source.default_version()
        current = self.holder.current()
        if target is None or (current is not None and current.version == target):
            return None
        if target in self._refused:
            return None
        log.info(
            "event=reconcile_swap served=%s champion=%s",
            current.version if current else None,
            target,
            extra={"model_version": target},
        )
        try:
            self.reload(target)
        except ModelRejected as exc:
            self._refused[target] = str(exc)
            return None
        except NotFound as exc:  # e.g. an artifact still being written: try again next period
            log.warning("event=reconcile_skipped champion=%s reason=%r", target, str(exc))
            return None
        return target

    def close(self) -> None:
        self._batcher.close()


def _describe(model: ServedModel) -> dict[str, Any]:
    metrics = model.metrics
    accuracy = metrics.get("accuracy", metrics.get("val_accuracy"))
    return {
        "version": model.version,
        "loaded_at": to_iso(model.loaded_at),
        "input_size": model.input_size,
        "validation_accuracy": float(accuracy) if isinstance(accuracy, int | float) else None,
    }


class Reconciler:
    """A daemon thread calling ``reconcile_once`` every ``interval_s`` seconds."""

    def __init__(self, service: InferenceService, interval_s: float) -> None:
        self._service = service
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                self._service.reconcile_once()
            except Exception:  # a registry outage must not end reconciliation
                log.exception("event=reconcile_failed")
