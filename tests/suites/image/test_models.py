"""Image-suite models: known answers first (parameters, shapes, receptive fields), then behaviour."""

import numpy as np
import pytest

import keras

from convsuite.common.analysis import layer_table
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.image import (
    LENET5_C3_TABLE,
    ElasticDistortion,
    ImagePreprocessing,
    lenet5,
    mcdnn_column,
    multi_column,
    predict,
    small_resnet,
)


def test_lenet5_c3_has_the_papers_1516_connected_parameters_and_zero_unconnected_weights():
    model = lenet5()
    c3 = model.get_layer("C3")
    assert c3.connected_params == 1516  # LeCun et al. 1998, Sec. II-B
    kernel = keras.ops.convert_to_numpy(c3.kernel)  # (5, 5, 6 inputs, 16 outputs)
    x = np.random.default_rng(0).normal(size=(1, 14, 14, 6)).astype(np.float32)
    out = keras.ops.convert_to_numpy(c3(x))
    for j, row in enumerate(LENET5_C3_TABLE):
        unconnected = [i for i in range(6) if i not in row]
        x_changed = x.copy()
        x_changed[..., unconnected] += 10.0  # inputs map j does not read: no effect on it
        np.testing.assert_allclose(keras.ops.convert_to_numpy(c3(x_changed))[..., j], out[..., j], atol=1e-5)
        if unconnected:
            assert np.abs(kernel[:, :, unconnected, j]).sum() > 0  # stored, but masked out


def test_lenet5_has_the_papers_layer_sizes_and_61706_parameters():
    model = lenet5(c3_table=False)
    # C1 156 + C3 2,416 (full connection) + C5 48,120 + F6 10,164 + output 850
    assert model.count_params() == 61706
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers if layer.name in ("C1", "S2", "C3", "S4", "C5", "F6")}
    assert shapes == {"C1": (28, 28, 6), "S2": (14, 14, 6), "C3": (10, 10, 16), "S4": (5, 5, 16),
                      "C5": (1, 1, 120), "F6": (84,)}
    rows = {row.name: row for row in layer_table(model)}
    assert rows["C5"].receptive_field == (32, 32)  # C5 sees the whole 32x32 input


def test_ciresan_column_on_29x29_input_matches_the_paper():
    column = mcdnn_column((29, 29, 1), architecture="ciresan2012")
    # conv 20@4x4 -> 26, pool 2 -> 13, conv 40@5x5 -> 9, pool 3 -> 3: 3*3*40 = 360 into 150 units
    assert tuple(column.get_layer("pool2").output.shape[1:]) == (3, 3, 40)
    assert column.count_params() == 340 + 20040 + 54150 + 1510


def test_resnet20_has_about_0_27m_parameters():
    model = small_resnet((32, 32, 3), depth=20)
    assert 0.27e6 < model.count_params() < 0.28e6  # He et al. 2016, Table 6: 0.27M
    assert model.output_shape == (None, 10)
    with pytest.raises(ValueError, match="6n\\+2"):
        small_resnet(depth=21)


def test_histogram_equalisation_maps_pixels_to_their_empirical_cdf():
    image = np.array([0, 0, 100, 255], np.float32).reshape(1, 2, 2, 1)
    out = keras.ops.convert_to_numpy(ImagePreprocessing("histeq")(image)).ravel()
    np.testing.assert_allclose(out, [0.5, 0.5, 0.75, 1.0])


def test_contrast_normalisation_gives_zero_mean_images():
    images = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 1)).astype(np.float32)
    out = keras.ops.convert_to_numpy(ImagePreprocessing("contrast")(images))
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0, atol=1e-5)


def test_elastic_distortion_is_identity_at_inference_and_moves_pixels_in_training():
    layer = ElasticDistortion(alpha=4.0, sigma=3.0, rotation=10, scale=0.1, seed=1)
    images = np.zeros((4, 28, 28, 1), np.float32)
    images[:, 8:20, 10:18] = 255.0
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(images, training=False)), images)
    warped = keras.ops.convert_to_numpy(layer(images, training=True))
    assert warped.shape == images.shape
    assert np.abs(warped - images).mean() > 1.0  # pixels moved
    assert warped.min() >= -1e-3 and warped.max() <= 255.0 + 1e-3  # bilinear: no new extremes
    assert abs(warped.mean() - images.mean()) < 0.25 * images.mean()  # mass roughly preserved
    still = ElasticDistortion(alpha=0.0, rotation=0.0, scale=0.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(still(images, training=True)), images)


def test_multi_column_output_is_the_mean_of_its_columns():
    columns = [mcdnn_column((28, 28, 1), preprocessing=mode, name=f"c{i}") for i, mode in
               enumerate(("none", "contrast", "histeq"))]
    ensemble = multi_column(columns)
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1)).astype(np.float32)
    expected = np.mean([c.predict(images, verbose=0) for c in columns], axis=0)
    np.testing.assert_allclose(ensemble.predict(images, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_models_save_and_load_with_plain_keras(tmp_path):
    column = mcdnn_column((28, 28, 1), preprocessing="histeq", architecture="wide",
                          distortion=dict(alpha=2.0, sigma=3.0, rotation=5.0, scale=0.05, seed=0))
    for model in (lenet5(), column, small_resnet((32, 32, 3), depth=8)):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        x = np.random.default_rng(1).integers(0, 256, (2, *model.input_shape[1:])).astype(np.float32)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_predict_rejects_images_that_do_not_fit_the_model():
    model = lenet5()
    with pytest.raises(ConvsuiteError, match=r"shape \(28, 28, 1\) does not match the model's input \(32, 32, 1\)"):
        predict(model, np.zeros((2, 28, 28, 1), np.uint8))
    with pytest.raises(ConvsuiteError, match=r"shape \(32, 32, 3\) does not match"):
        predict(model, np.zeros((2, 32, 32, 3), np.uint8))
    nan_images = np.zeros((2, 32, 32, 1), np.float32)
    nan_images[0, 3, 3, 0] = np.nan
    with pytest.raises(ConvsuiteError, match="NaN"):
        predict(model, nan_images)
    probabilities = predict(model, np.zeros((2, 32, 32), np.uint8))  # a missing grey channel is added
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
