"""The architectures follow the model format in inference_server.classifier."""

from __future__ import annotations

import numpy as np
import pytest

from training_job.model import make_model, model_arch, model_input_size


def test_small_cnn_takes_raw_pixels_and_outputs_p_dog() -> None:
    model = make_model("small_cnn", 32)
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 1)
    assert model.get_layer("rescale") is not None
    assert model.count_params() * 4 < 10 * 1024 * 1024
    p = np.asarray(model(np.full((2, 32, 32, 3), 255.0, dtype=np.float32), training=False))
    assert p.shape == (2, 1) and ((p > 0) & (p < 1)).all()
    assert (model_arch(model), model_input_size(model)) == ("small_cnn", 32)


def test_mobilenet_v2_builds_offline_with_in_model_rescaling() -> None:
    model = make_model("mobilenet_v2", 32, weights=None)
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 1)
    rescale = model.get_layer("rescale")
    out = np.asarray(rescale(np.array([[0.0, 127.5, 255.0]], dtype=np.float32)))
    np.testing.assert_allclose(out, [[-1.0, 0.0, 1.0]], atol=1e-6)
    assert model_arch(model) == "mobilenet_v2"


def test_unknown_architecture_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown architecture"):
        make_model("vgg16", 32)
