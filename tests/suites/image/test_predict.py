"""Image predict(): the model's trained pixel range travels with it, inputs outside it are
refused, a single image gives one row and an empty batch an empty result."""

import numpy as np
import pytest

import keras

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.image.models import lenet5, mcdnn_column, multi_column, small_resnet
from convsuite.suites.image.train import predict, trained_pixel_range


@pytest.fixture(scope="module")
def model():
    return lenet5(num_classes=3)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (4, 32, 32, 1)).astype(np.uint8)


def test_every_image_model_records_the_0_to_255_range_and_keeps_it_in_its_keras_file(tmp_path):
    columns = [mcdnn_column(num_classes=3, preprocessing=mode, name=f"c{i}")
               for i, mode in enumerate(("none", "histeq"))]
    built = {"lenet5": lenet5(num_classes=3), "resnet": small_resnet(depth=8, num_classes=3),
             "mcdnn": multi_column(columns)}
    for name, built_model in built.items():
        assert trained_pixel_range(built_model) == (0.0, 255.0), name
        path = tmp_path / f"{name}.keras"
        built_model.save(path)
        assert trained_pixel_range(keras.saving.load_model(path)) == (0.0, 255.0), name


def test_a_model_without_input_scaling_has_no_recorded_range():
    inputs = keras.Input((4, 4, 1))
    plain = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs)))
    assert trained_pixel_range(plain) is None
    assert predict(plain, np.full((1, 4, 4, 1), 0.5, np.float32)).shape == (1, 2)  # nothing to check against


def test_uint8_and_float_pixels_in_0_255_give_the_same_probabilities(model, images):
    as_uint8 = predict(model, images)
    assert as_uint8.shape == (4, 3)
    np.testing.assert_allclose(as_uint8.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(predict(model, images.astype(np.float32)), as_uint8, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predict(model, images.astype(np.int64)), as_uint8, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("convert, message", [
    (lambda x: x / 255.0, r"pixel values in \[0, 1\] but the model was trained on 0-255; multiply them by 255"),
    (lambda x: x > 127, "are boolean but the model reads pixel values 0-255"),
    (lambda x: x.astype(np.uint16) * 257, "are uint16 .* trained on 8-bit pixels 0-255"),
    (lambda x: x.astype(np.float32) - 128, "pixel values from -128 to 127 but the model was trained on 0-255"),
    (lambda x: x.astype(np.int32) * 2, "pixel values from 0 to 510 but the model was trained on 0-255"),
    (lambda x: x.astype(str), "dtype <U3; pass uint8 or float pixel values"),
])
def test_pixels_outside_the_trained_range_are_refused_with_one_sentence(model, images, convert, message):
    with pytest.raises(ConvsuiteError, match=message):
        predict(model, convert(images))


def test_the_check_holds_for_a_saved_model_file_alone(model, images, tmp_path):
    model.save(tmp_path / "model.keras")
    np.testing.assert_allclose(predict(tmp_path / "model.keras", images), predict(model, images), rtol=1e-5, atol=1e-6)
    with pytest.raises(ConvsuiteError, match=r"\[0, 1\]"):
        predict(str(tmp_path / "model.keras"), images / 255.0)
    with pytest.raises(ConvsuiteError, match=r"\[0, 1\]"):
        predict(tmp_path, images / 255.0)  # a run directory holding model.keras


def test_a_single_image_with_or_without_its_channel_gives_one_row(model, images):
    batch = predict(model, images)
    single = predict(model, images[1])  # (32, 32, 1)
    assert single.shape == (1, 3)
    np.testing.assert_allclose(single[0], batch[1], rtol=1e-5, atol=1e-6)
    grey = predict(model, images[2, ..., 0])  # (32, 32)
    assert grey.shape == (1, 3)
    np.testing.assert_allclose(grey[0], batch[2], rtol=1e-5, atol=1e-6)
    assert predict(model, images[..., 0]).shape == (4, 3)  # a batch of greys (N, 32, 32)


def test_a_single_colour_image_gives_one_row():
    resnet = small_resnet(input_shape=(16, 16, 3), depth=8, num_classes=5)
    image = np.random.default_rng(1).integers(0, 256, (16, 16, 3)).astype(np.uint8)
    assert predict(resnet, image).shape == (1, 5)


def test_an_empty_batch_gives_an_empty_result(model):
    for empty in (np.zeros((0, 32, 32, 1), np.uint8), np.zeros((0, 32, 32), np.float32), [], np.array([])):
        result = predict(model, empty)
        assert result.shape == (0, 3)
    with pytest.raises(ConvsuiteError, match=r"shape \(28, 28, 1\) does not match"):
        predict(model, np.zeros((0, 28, 28, 1), np.uint8))


def test_a_single_image_of_the_wrong_size_names_its_own_shape(model):
    with pytest.raises(ConvsuiteError, match=r"shape \(28, 28, 1\) does not match the model's input \(32, 32, 1\)"):
        predict(model, np.zeros((28, 28, 1), np.uint8))
