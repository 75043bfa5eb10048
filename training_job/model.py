"""The networks. Every architecture follows the format in ``inference_server.classifier``:
float32 RGB pixels in [0, 255] in, rescaling inside the model, P(dog) out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import layers

FLIP_AVERAGED_SUFFIX = "_flip_averaged"
DROPOUT = 0.3
# Batch-norm running statistics follow the last ~10 batches (PyTorch's default). Keras's
# 0.99 needs hundreds of steps before the statistics used at inference settle, so a run
# on a small catalog can train well and still predict at chance.
BN_MOMENTUM = 0.9


@dataclass(frozen=True)
class CnnWidths:
    """Widths of the compact Xception-style network: two strided stem convs
    (resolution / 4, cheap on a CPU), one residual block per block width (each
    halves the resolution), then the last separable conv before global pooling."""

    stem: tuple[int, ...]
    blocks: tuple[int, ...]
    head: int


CNN_WIDTHS = {
    # At 128 px: 0.49 M parameters, ~2 MB saved.
    "small_cnn": CnnWidths(stem=(24, 48), blocks=(96, 192, 320), head=448),
    # At 128 px: 1.1 M parameters, ~4.5 MB saved; about 1.4x small_cnn's cost per image.
    "medium_cnn": CnnWidths(stem=(32, 64), blocks=(128, 256, 512), head=728),
}
ARCHITECTURES = (*CNN_WIDTHS, "mobilenet_v2")


def make_model(
    arch: str,
    input_size: int,
    *,
    weights: str | None = "imagenet",
    dropout: float = DROPOUT,
) -> keras.Model:
    """Build an untrained (or ImageNet-initialised) model for ``arch``.

    ``weights`` only affects ``mobilenet_v2``; pass None to build it offline.
    """
    if arch in CNN_WIDTHS:
        return make_cnn(arch, input_size, dropout=dropout)
    if arch == "mobilenet_v2":
        return make_mobilenet_v2(input_size, weights=weights, dropout=dropout)
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")


def make_cnn(arch: str, input_size: int, *, dropout: float = DROPOUT) -> keras.Model:
    """A compact Xception-style network (keras-io "image classification from scratch"),
    narrowed so it trains on a CPU and saves in a few MB; ``arch`` names its widths."""
    widths = CNN_WIDTHS[arch]
    inputs = keras.Input(shape=(input_size, input_size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)

    # Entry stem: two strided convs cut the resolution by 4 before the costly blocks.
    for index, width in enumerate(widths.stem, start=1):
        x = layers.Conv2D(
            width, 3, strides=2, padding="same", use_bias=False, name=f"stem_conv{index}"
        )(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"stem_bn{index}")(x)
        x = layers.Activation("relu", name=f"stem_relu{index}")(x)

    for index, width in enumerate(widths.blocks, start=1):
        x = _residual_block(x, width, name=f"block{index}")

    x = layers.SeparableConv2D(widths.head, 3, padding="same", use_bias=False, name="head_sepconv")(
        x
    )
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="head_bn")(x)
    x = layers.Activation("relu", name="head_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="p_dog")(x)
    return keras.Model(inputs, outputs, name=arch)


def _residual_block(x: Any, width: int, *, name: str) -> Any:
    """Two separable convs and a strided max-pool, plus a 1x1 strided projection shortcut."""
    shortcut = x
    for step in (1, 2):
        x = layers.Activation("relu", name=f"{name}_relu{step}")(x)
        x = layers.SeparableConv2D(
            width, 3, padding="same", use_bias=False, name=f"{name}_sepconv{step}"
        )(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn{step}")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    shortcut = layers.Conv2D(width, 1, strides=2, padding="same", name=f"{name}_project")(shortcut)
    return layers.add([x, shortcut], name=f"{name}_add")


def make_mobilenet_v2(
    input_size: int, *, weights: str | None = "imagenet", dropout: float = DROPOUT
) -> keras.Model:
    """MobileNetV2 features (ImageNet weights when available) with a new P(dog) head.

    MobileNetV2 expects pixels in [-1, 1]; the rescaling layer does that inside the model.
    Without network access the ImageNet weights cannot be fetched: it then warns
    and starts from random weights rather than failing the run.
    """
    inputs = keras.Input(shape=(input_size, input_size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(inputs)
    try:
        backbone = keras.applications.MobileNetV2(
            input_shape=(input_size, input_size, 3), include_top=False, weights=weights
        )
    except Exception as exc:  # offline: urllib, OSError, ... depending on how it fails
        if weights is None:
            raise
        warnings.warn(
            f"MobileNetV2 {weights} weights unavailable ({exc}); training from scratch",
            stacklevel=2,
        )
        backbone = keras.applications.MobileNetV2(
            input_shape=(input_size, input_size, 3), include_top=False, weights=None
        )
    x = backbone(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="p_dog")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2")


def with_flip_averaging(base: keras.Model) -> keras.Model:
    """The served form: P(dog) averaged over the photo and its mirror image.

    Test-time augmentation with built-in layers only (the mirror is a fixed
    permutation matrix), so any Keras loads it without custom code; it costs
    one more pass of the network.
    """
    size = model_input_size(base)
    inputs = keras.Input(shape=(size, size, 3), name="pixels")
    x = layers.Permute((1, 3, 2), name="mirror_width_last")(inputs)
    mirror = layers.Dense(size, use_bias=False, trainable=False, name="mirror_width")
    x = mirror(x)
    mirror.set_weights([np.eye(size, dtype=np.float32)[::-1]])
    mirrored = layers.Permute((1, 3, 2), name="mirror_back")(x)
    outputs = layers.Average(name="p_dog_mean")([base(inputs), base(mirrored)])
    return keras.Model(inputs, outputs, name=base.name + FLIP_AVERAGED_SUFFIX)


def is_flip_averaged(model: keras.Model) -> bool:
    """Whether a served model averages the photo and its mirror image."""
    return str(model.name).endswith(FLIP_AVERAGED_SUFFIX)


def trainable_core(model: keras.Model) -> keras.Model:
    """The network inside a served model (the model itself when it is not wrapped)."""
    if is_flip_averaged(model):
        return model.get_layer(model.name.removesuffix(FLIP_AVERAGED_SUFFIX))
    return model


def model_arch(model: keras.Model) -> str:
    """The architecture name a saved model was built with."""
    name = str(trainable_core(model).name)
    return name if name in ARCHITECTURES else "small_cnn"


def model_input_size(model: keras.Model) -> int:
    return int(model.input_shape[1])
