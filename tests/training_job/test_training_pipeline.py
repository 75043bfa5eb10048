"""The tf.data pipeline: seeded, reshuffled each epoch, augmentation within range."""

from __future__ import annotations

import numpy as np

from training_job.data import DecodedSet, example_from_bytes
from training_job.pipeline import Augmentation, evaluation_dataset, training_dataset


def decoded_set(n: int = 24, size: int = 16) -> DecodedSet:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    labels = np.array([i % 2 for i in range(n)], dtype=np.float32)
    examples = [example_from_bytes(str(i), bytes([i]), i % 2) for i in range(n)]
    return DecodedSet(pixels, labels, examples, [])


def two_epochs(seed: int) -> list[list[np.ndarray]]:
    dataset = training_dataset(decoded_set(), 8, seed, augmentation=Augmentation())
    return [[x.numpy() for x, _ in dataset] for _ in range(2)]


def test_same_seed_same_batches_and_each_epoch_differs() -> None:
    first, second = two_epochs(5), two_epochs(5)
    for epoch_a, epoch_b in zip(first, second, strict=True):
        for a, b in zip(epoch_a, epoch_b, strict=True):
            np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first[0], first[1], strict=True))
    other = two_epochs(6)
    assert not all(np.array_equal(a, b) for a, b in zip(first[0], other[0], strict=True))


def test_augmented_batches_keep_shape_range_and_labels() -> None:
    data = decoded_set()
    seen_labels = []
    for x, y in training_dataset(data, 8, 1, augmentation=Augmentation()):
        assert x.shape[1:] == (16, 16, 3)
        assert x.dtype.name == "float32"
        assert float(np.min(x)) >= 0.0 and float(np.max(x)) <= 255.0
        seen_labels.extend(y.numpy().tolist())
    assert sorted(seen_labels) == sorted(data.labels.tolist())


def test_without_augmentation_pixels_are_unchanged_and_evaluation_keeps_order() -> None:
    data = decoded_set()
    batches = [x.numpy() for x, _ in training_dataset(data, 8, 1, augmentation=None)]
    rows = {row.tobytes() for row in np.concatenate(batches).astype(np.uint8)}
    assert rows == {row.tobytes() for row in data.pixels}
    ordered = np.concatenate([x.numpy() for x in evaluation_dataset(data.pixels, 5)])
    np.testing.assert_array_equal(ordered, data.pixels.astype(np.float32))
