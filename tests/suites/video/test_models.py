"""The video models: LRCN, the single-frame baseline, C3D, the two streams and late fusion; the
keras.applications backbone with the user's weights file; save/load; the same models on JAX."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.video import models
from tests.common.test_jax_path import BLOCK_TENSORFLOW

CLASSES, FRAMES, FRAME = 3, 4, (16, 16, 3)
TINY = {"width": 4}


def clips(seed=0, batch=2, frames=FRAMES):
    return np.random.default_rng(seed).integers(0, 256, (batch, frames, *FRAME), dtype="uint8")


def tiny_lrcn(**kwargs):
    return models.lrcn(CLASSES, FRAMES, FRAME, **{**TINY, "lstm_units": 8, **kwargs})


def tiny_c3d():
    return models.c3d(CLASSES, FRAMES, FRAME, dense_units=8, **TINY)


def tiny_streams():
    spatial = models.spatial_stream(CLASSES, FRAME, **TINY)
    temporal = models.temporal_stream(CLASSES, (16, 16, 6), **TINY)
    return spatial, temporal


def predict(model, inputs):
    return keras.ops.convert_to_numpy(model.predict(inputs, verbose=0))


BUILDERS = {
    "lrcn": (tiny_lrcn, lambda: clips()),
    "single_frame": (lambda: models.single_frame(CLASSES, FRAMES, FRAME, **TINY), lambda: clips()),
    "c3d": (tiny_c3d, lambda: clips()),
    "spatial_stream": (lambda: tiny_streams()[0], lambda: clips()[:, 0]),
    "temporal_stream": (lambda: tiny_streams()[1],
                        lambda: np.random.default_rng(1).integers(0, 256, (2, 16, 16, 6), dtype="uint8")),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_model_maps_uint8_pixels_to_float32_class_probabilities(name):
    build, data = BUILDERS[name]
    model = build()
    assert model.name == name and (name in models.MODELS or name in ("spatial_stream", "temporal_stream"))
    probabilities = predict(model, data())
    assert probabilities.shape == (2, CLASSES) and probabilities.dtype == np.float32
    assert (probabilities > 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert 100 < model.count_params() < 200_000


def test_lrcn_lstm_reads_the_frame_features_with_the_papers_256_units_by_default():
    assert models.LRCN_LSTM_UNITS == 256
    model = tiny_lrcn(lstm_units=8)
    features = model.get_layer("frame_features").output.shape[-1]
    assert features == 8 * TINY["width"]  # a fully connected layer of 8 * width, like CaffeNet's fc6
    lstm = model.get_layer("lstm")
    assert lstm.return_sequences and lstm.count_params() == 4 * (features + 8 + 1) * 8


def test_two_stream_fuses_the_frame_averaged_spatial_scores_with_the_temporal_scores():
    model = models.two_stream(CLASSES, FRAMES, FRAME, flow_stack=3, width=4, dropout=0.0, weights=(1, 3))
    flow = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 6), dtype="uint8")
    fused = predict(model, [clips(), flow])
    spatial, temporal = (model.get_layer(index=i) for i in (2, 3))
    expected = (predict(spatial, clips()) + 3 * predict(temporal, flow)) / 4
    np.testing.assert_allclose(fused, expected, atol=1e-5)


def test_the_frame_cnn_keeps_where_things_are_in_the_frame():
    # The LSTM must see an object move: the frame features are a fully connected layer over the last
    # feature map (like fc6), not a global average, and a shifted object changes them.
    import keras

    cnn = models.frame_cnn((16, 16, 3), width=4)
    assert not any(isinstance(layer, keras.layers.GlobalAveragePooling2D) for layer in cnn.layers)
    assert cnn.get_layer("pool2").output.shape[1:3] == (4, 4)  # blocks chosen to leave a 4x4 map
    frame = np.zeros((1, 16, 16, 3), np.float32)
    left, right = frame.copy(), frame.copy()
    left[:, 4:8, 1:5], right[:, 4:8, 11:15] = 255, 255
    assert not np.allclose(cnn(left), cnn(right), atol=1e-4)


def test_lrcn_output_is_the_mean_of_its_per_frame_softmax_predictions():
    model = tiny_lrcn()
    per_frame = keras.Model(model.inputs, model.get_layer("frame_probabilities").output)
    frame_probabilities = predict(per_frame, clips())
    assert frame_probabilities.shape == (2, FRAMES, CLASSES)
    np.testing.assert_allclose(frame_probabilities.sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(predict(model, clips()), frame_probabilities.mean(axis=1), atol=1e-6)


def test_single_frame_ignores_the_frame_order_and_lrcn_does_not():
    clip = clips(2)
    shuffled = clip[:, [2, 0, 3, 1]]
    baseline = models.single_frame(CLASSES, FRAMES, FRAME, **TINY)
    np.testing.assert_allclose(predict(baseline, shuffled), predict(baseline, clip), atol=1e-6)
    recurrent = tiny_lrcn()
    assert np.abs(predict(recurrent, shuffled) - predict(recurrent, clip)).max() > 1e-5


def test_lrcn_with_frames_none_takes_clips_of_any_length():
    model = models.lrcn(CLASSES, None, FRAME, lstm_units=8, **TINY)
    assert predict(model, clips(frames=3)).shape == (2, CLASSES)
    assert predict(model, clips(frames=5)).shape == (2, CLASSES)


def test_c3d_uses_only_3x3x3_stride_1_convolutions_and_keeps_time_at_pool1():
    model = tiny_c3d()
    convolutions = [layer for layer in model.layers if isinstance(layer, models.ConvBNAct)]
    assert len(convolutions) == 6  # stages of 1, 1, 2, 2 convolutions
    assert all(c.rank == 3 and c.kernel_size == (3, 3, 3) and c.strides == (1, 1, 1) for c in convolutions)
    pools = [layer.pool_size for layer in model.layers if isinstance(layer, keras.layers.MaxPooling3D)]
    assert pools[0] == (1, 2, 2) and pools[1] == (2, 2, 2)


def test_c3d_paper_has_eight_convolutions_five_poolings_and_8192_fc6_inputs():
    model = models.c3d_paper(101)
    convolutions = [layer for layer in model.layers if isinstance(layer, models.ConvBNAct)]
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling3D)]
    assert [c.filters for c in convolutions] == [64, 128, 256, 256, 512, 512, 512, 512]
    assert all(c.kernel_size == (3, 3, 3) and not c.use_batch_norm for c in convolutions)
    assert len(pools) == 5 and pools[0].pool_size == (1, 2, 2)
    assert all(p.pool_size == (2, 2, 2) for p in pools[1:])
    assert model.get_layer("flatten").output.shape[-1] == 8192
    widths = [3, 64, 128, 256, 256, 512, 512, 512, 512]
    conv_params = sum(27 * a * b + b for a, b in zip(widths, widths[1:]))
    assert sum(c.count_params() for c in convolutions) == conv_params
    assert model.get_layer("fc6").units == model.get_layer("fc7").units == 4096


def test_late_fusion_returns_the_weighted_average_of_the_streams():
    spatial, temporal = tiny_streams()
    frame, flow = clips(3)[:, 0], np.random.default_rng(4).integers(0, 256, (2, 16, 16, 6), dtype="uint8")
    fused = models.late_fusion([spatial, temporal], [1 / 3, 2 / 3])
    expected = predict(spatial, frame) / 3 + predict(temporal, flow) * 2 / 3
    np.testing.assert_allclose(predict(fused, [frame, flow]), expected, atol=1e-6)
    unnormalized = models.late_fusion([spatial, temporal], [1, 2])  # normalized to [1/3, 2/3]
    np.testing.assert_allclose(predict(unnormalized, [frame, flow]), expected, atol=1e-6)


@pytest.mark.parametrize("weights", [[-1, 2], [0.5], [0, 0], [1, float("nan")], "ab"])
def test_late_fusion_rejects_bad_weights(weights):
    spatial, temporal = tiny_streams()
    with pytest.raises(ConvsuiteError, match="weights"):
        models.late_fusion([spatial, temporal], weights)


def test_late_fusion_rejects_streams_over_different_classes():
    spatial = models.spatial_stream(CLASSES, FRAME, **TINY)
    other = models.spatial_stream(CLASSES + 1, FRAME, name="other", **TINY)
    with pytest.raises(ConvsuiteError, match=r"class counts are \[3, 4\]"):
        models.late_fusion([spatial, other], [0.5, 0.5])


def test_lrcn_c3d_and_late_fusion_survive_a_save_and_load(tmp_path):
    spatial, temporal = tiny_streams()
    frame, flow = clips(5)[:, 0], np.random.default_rng(6).integers(0, 256, (2, 16, 16, 6), dtype="uint8")
    cases = {"lrcn": (tiny_lrcn(), clips(5)), "c3d": (tiny_c3d(), clips(5)),
             "fusion": (models.late_fusion([spatial, temporal], [1, 2]), [frame, flow])}
    for name, (model, data) in cases.items():
        path = tmp_path / f"{name}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        np.testing.assert_allclose(predict(loaded, data), predict(model, data), atol=1e-6, err_msg=name)
    fusion_layer = keras.saving.load_model(tmp_path / "fusion.keras").get_layer("fused_probabilities")
    np.testing.assert_allclose(fusion_layer.score_weights, [1 / 3, 2 / 3])


def test_saliency_gives_one_map_per_frame():
    model = tiny_c3d()
    maps = models.saliency(model, clips(7)[0], class_index=1)
    assert maps.shape == (FRAMES, 16, 16) and (maps >= 0).all() and maps.max() > 0


def test_unknown_backbone_names_the_supported_ones():
    with pytest.raises(ConvsuiteError, match="mobilenet_v2.*resnet50"):
        models.keras_application_backbone("vgg99", (32, 32, 3), None)
    with pytest.raises(ConvsuiteError, match="at least 75x75"):
        models.keras_application_backbone("inception_v3", (32, 32, 3), None)
    with pytest.raises(ConvsuiteError, match="scratch backbone"):
        models.lrcn(CLASSES, FRAMES, FRAME, backbone="scratch", backbone_weights="w.weights.h5")


def test_backbone_loads_the_users_weights_and_rejects_a_file_of_another_model(tmp_path):
    shape = (32, 32, 3)
    trained = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=shape,
                                                  pooling="avg")
    own = tmp_path / "mobilenet_v3_small_no_top.weights.h5"
    trained.save_weights(own)
    backbone = models.keras_application_backbone("mobilenet_v3_small", shape, str(own))
    pixels = np.random.default_rng(8).integers(0, 256, (2, *shape)).astype("float32")
    # MobileNetV3 scales its 0..255 input itself, so the backbone's features are the application's.
    np.testing.assert_allclose(predict(backbone, pixels), predict(trained, pixels), atol=1e-5)
    clip_model = models.lrcn(CLASSES, 2, shape, backbone="mobilenet_v3_small", backbone_weights=str(own),
                             lstm_units=8)
    assert predict(clip_model, pixels[None].astype("uint8")).shape == (1, CLASSES)

    other = tmp_path / "frame_cnn.weights.h5"
    models.frame_cnn(shape, width=4).save_weights(other)
    for path in (other, tmp_path / "missing.weights.h5"):
        with pytest.raises(ConvsuiteError, match=r"no-top weights file for mobilenet_v3_small") as error:
            models.keras_application_backbone("mobilenet_v3_small", shape, str(path))
        assert str(path) in str(error.value)


def test_application_preprocessing_gives_each_application_its_input_range():
    pixels = np.array([[[[0.0, 127.5, 255.0]]]], "float32")
    tf_mode = keras.ops.convert_to_numpy(models.ApplicationPreprocessing("tf")(pixels))
    np.testing.assert_allclose(tf_mode[0, 0, 0], [-1.0, 0.0, 1.0], atol=1e-6)
    caffe = keras.ops.convert_to_numpy(models.ApplicationPreprocessing("caffe")(pixels))
    np.testing.assert_allclose(caffe[0, 0, 0], [255.0 - 103.939, 127.5 - 116.779, 0.0 - 123.68], atol=1e-4)


JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import keras
    import numpy as np
    import convsuite.suites.video.models
    clip = np.load(sys.argv[1])
    report = {"backend": keras.backend.backend()}
    for name in ("lrcn", "c3d"):
        model = keras.saving.load_model(f"{sys.argv[2]}/{name}.keras")  # rebuilt from its config on JAX
        outputs = keras.ops.convert_to_numpy(model.predict(clip, verbose=0))
        np.save(f"{sys.argv[2]}/{name}_jax.npy", outputs)
        report[name] = list(outputs.shape)
    print(json.dumps(report))
""")
CLI_IMPORT = "from convsuite.common.cli import main"


def test_lrcn_and_c3d_saved_on_tensorflow_build_and_agree_on_jax_without_tensorflow(tmp_path):
    clip = clips(9)
    np.save(tmp_path / "clip.npy", clip)
    trained = {"lrcn": tiny_lrcn(), "c3d": models.c3d(CLASSES, FRAMES, FRAME, stages=2, dense_units=8, **TINY)}
    for name, model in trained.items():
        model.save(tmp_path / f"{name}.keras")
    assert CLI_IMPORT in BLOCK_TENSORFLOW
    script = BLOCK_TENSORFLOW.split(CLI_IMPORT)[0] + JAX_SCRIPT + "assert 'tensorflow' not in sys.modules\n"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "clip.npy"), str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    expected = {name: predict(model, clip) for name, model in trained.items()}  # while JAX starts
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report == {"backend": "jax", "lrcn": [2, CLASSES], "c3d": [2, CLASSES]}
    for name, outputs in expected.items():
        np.testing.assert_allclose(np.load(tmp_path / f"{name}_jax.npy"), outputs, atol=1e-4, err_msg=name)


def test_outputs_stay_float32_under_mixed_precision():
    # C3D is left out: TensorFlow's CPU build has no float16 MaxPool3D kernel (its GPU build has).
    keras.config.set_dtype_policy("mixed_float16")
    try:
        built = {"frame_features": (tiny_lrcn(), clips(10)), "conv1": (tiny_streams()[0], clips(10)[:, 0])}
    finally:
        keras.config.set_dtype_policy("float32")
    for layer, (model, data) in built.items():
        assert model.get_layer(layer).compute_dtype == "float16"
        probabilities = predict(model, data)
        assert probabilities.dtype == np.float32
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)
