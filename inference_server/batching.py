"""Micro-batching: concurrent requests share one call of the compiled model.

Each request is preprocessed in its own thread for the model that is current
when it arrives, and pinned to that model. One worker thread forms batches of
requests pinned to the same model (so inputs of different sizes never mix, and
every request finishes on the model it started with) and resolves each
request's future with that model's answer.

The worker waits for more requests (at most ``max_wait_s``) only while other
requests are still being preprocessed; a lone request is predicted at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from catdog.errors import ServiceUnavailable
from inference_server.classifier import ClassProbabilities
from inference_server.holder import ModelHolder, ServedModel

Preprocess = Callable[[bytes, int], np.ndarray]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchedPrediction:
    probabilities: ClassProbabilities
    model: ServedModel


@dataclass
class _Request:
    pixels: np.ndarray
    model: ServedModel
    future: Future[BatchedPrediction] = field(default_factory=Future)


class MicroBatcher:
    """Batches predictions across threads; ``submit`` returns a future per request."""

    def __init__(
        self,
        holder: ModelHolder,
        preprocess: Preprocess,
        max_batch_size: int = 32,
        max_wait_s: float = 0.002,
    ) -> None:
        self._holder = holder
        self._preprocess = preprocess
        self._max_batch_size = max(1, max_batch_size)
        self._max_wait_s = max(0.0, max_wait_s)
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._deferred: deque[_Request] = deque()
        self._arriving = 0
        self._arriving_lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="micro-batcher", daemon=True)
        self.batches = 0
        self.predictions = 0

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the worker; requests not yet predicted fail with ServiceUnavailable."""
        self._stopped.set()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._fail_pending()

    def submit(self, data: bytes) -> Future[BatchedPrediction]:
        """Preprocess ``data`` in the caller's thread and queue it for the next batch.

        Raises InvalidImage/ImageTooLarge (bad input), ModelNotLoaded, or
        ServiceUnavailable when the batcher is stopped.
        """
        if self._stopped.is_set():
            raise ServiceUnavailable("the inference server is shutting down")
        model = self._holder.require()
        with self._arriving_lock:
            self._arriving += 1
        try:
            pixels = self._preprocess(data, model.input_size)
            request = _Request(pixels, model)
            self._queue.put(request)
        finally:
            with self._arriving_lock:
                self._arriving -= 1
        return request.future

    def _run(self) -> None:
        while not self._stopped.is_set():
            batch = self._collect()
            if batch:
                self._predict(batch)

    def _collect(self) -> list[_Request]:
        """One batch of requests pinned to the same model (empty when stopping)."""
        if self._deferred:
            first = self._deferred.popleft()
        else:
            item = self._queue.get()
            if item is None:
                return []
            first = item
        batch = [first]
        kept: deque[_Request] = deque()
        while self._deferred:
            request = self._deferred.popleft()
            (batch if self._fits(batch, request) else kept).append(request)
        self._deferred = kept
        deadline = time.monotonic() + self._max_wait_s
        while len(batch) < self._max_batch_size:
            item = self._next(deadline)
            if item is None:
                break
            if self._fits(batch, item):
                batch.append(item)
            else:
                self._deferred.append(item)
        return batch

    def _fits(self, batch: list[_Request], request: _Request) -> bool:
        return len(batch) < self._max_batch_size and request.model is batch[0].model

    def _next(self, deadline: float) -> _Request | None:
        """The next queued request; waits until ``deadline`` only while more are arriving."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            pass
        while self._arriving > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                return self._queue.get(timeout=min(remaining, 0.0005))
            except queue.Empty:
                continue
        return None

    def _predict(self, batch: list[_Request]) -> None:
        model = batch[0].model
        try:
            dogs = model.classifier.predict_batch(np.stack([r.pixels for r in batch]))
        except Exception as exc:
            log.exception("event=batch_failed version=%s size=%d", model.version, len(batch))
            for request in batch:
                request.future.set_exception(exc)
            return
        self.batches += 1
        self.predictions += len(batch)
        for request, dog in zip(batch, dogs, strict=True):
            request.future.set_result(BatchedPrediction(ClassProbabilities(float(dog)), model))

    def _fail_pending(self) -> None:
        pending = list(self._deferred)
        self._deferred.clear()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                pending.append(item)
        for request in pending:
            if not request.future.done():
                request.future.set_exception(ServiceUnavailable("the inference server stopped"))
