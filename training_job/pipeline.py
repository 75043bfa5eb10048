"""The tf.data pipelines: batches from the in-memory uint8 cache, shuffled from a
seed, augmented on the fly, prefetched. No per-image Python work per epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from training_job.data import DecodedSet


@dataclass(frozen=True)
class Augmentation:
    """Training-time changes that keep the label: a random crop (zoom, shift and
    aspect), a horizontal flip, and brightness/contrast jitter. All of it is one
    ``crop_and_resize`` and a few arithmetic ops per batch, because on a CPU the
    usual chain of Keras random layers costs as much as the network itself."""

    min_crop: float = 0.72  # smallest crop side, as a fraction of the image side
    max_aspect_change: float = 0.15
    flip: bool = True
    brightness: float = 20.0  # +- pixel levels
    contrast: float = 0.2  # +- fraction around each image's mean

    def __call__(self, images: Any, seed: Any) -> Any:
        """Augment a float32 batch in [0, 255] with stateless ops seeded by ``seed`` (2 ints)."""
        import tensorflow as tf

        batch = tf.shape(images)[0]
        size = tf.shape(images)[1:3]
        seeds = tf.random.experimental.stateless_split(seed, num=6)

        def uniform(index: int, low: float, high: float) -> Any:
            return tf.random.stateless_uniform([batch], seeds[index], low, high)

        side = uniform(0, self.min_crop, 1.0)
        aspect = uniform(1, 1 - self.max_aspect_change, 1 + self.max_aspect_change)
        height = tf.minimum(side * tf.sqrt(aspect), 1.0)
        width = tf.minimum(side / tf.sqrt(aspect), 1.0)
        top = uniform(2, 0.0, 1.0) * (1 - height)
        left = uniform(3, 0.0, 1.0) * (1 - width)
        right = left + width
        if self.flip:
            # crop_and_resize mirrors a box whose x1 > x2.
            flipped = tf.random.stateless_uniform([batch], seeds[4]) < 0.5
            left, right = tf.where(flipped, right, left), tf.where(flipped, left, right)
        boxes = tf.stack([top, left, top + height, right], axis=1)
        images = tf.image.crop_and_resize(images, boxes, tf.range(batch), size)

        jitter = tf.random.stateless_uniform([batch, 2], seeds[5], -1.0, 1.0)
        factor = 1 + self.contrast * jitter[:, 0]
        shift = self.brightness * jitter[:, 1]
        mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
        images = (images - mean) * factor[:, None, None, None] + mean + shift[:, None, None, None]
        return tf.clip_by_value(images, 0.0, 255.0)


def training_dataset(
    decoded: DecodedSet,
    batch_size: int,
    seed: int,
    *,
    augmentation: Augmentation | None = None,
) -> Any:
    """Shuffled (differently each epoch, from ``seed``), augmented, prefetched batches."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((decoded.pixels, decoded.labels))
    dataset = dataset.shuffle(len(decoded), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augmentation is None:
        dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32), y))
        return dataset.prefetch(tf.data.AUTOTUNE)
    # A seed per batch, new each epoch, from one seeded stream: deterministic and parallel.
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    dataset = tf.data.Dataset.zip(dataset, seeds)
    dataset = dataset.map(
        lambda batch, batch_seed: (
            augmentation(tf.cast(batch[0], tf.float32), batch_seed),
            batch[1],
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(
    pixels: np.ndarray, batch_size: int, labels: np.ndarray | None = None
) -> Any:
    """Batches of float32 pixels (with their labels when given) in a fixed order."""
    import tensorflow as tf

    if labels is None:
        dataset = tf.data.Dataset.from_tensor_slices(pixels).batch(batch_size)
        return dataset.map(lambda x: tf.cast(x, tf.float32)).prefetch(tf.data.AUTOTUNE)
    dataset = tf.data.Dataset.from_tensor_slices((pixels, labels)).batch(batch_size)
    return dataset.map(lambda x, y: (tf.cast(x, tf.float32), y)).prefetch(tf.data.AUTOTUNE)
