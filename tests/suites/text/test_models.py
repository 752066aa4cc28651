"""Kim's (2014) sentence CNN: the four embedding variants, the max-norm on the softmax weights,
padding masking, the pooling choices, and save/load with the vocabulary inside the .keras file."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile

import keras
import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text import models
from tests.common.test_jax_path import BLOCK_TENSORFLOW

VOCAB, DIM, CLASSES = 30, 6, 3
TINY = {"windows": (2, 3), "feature_maps": 4}


def pretrained(seed=0):
    return np.random.default_rng(seed).normal(size=(VOCAB, DIM)).astype("float32")


def tiny(variant="rand", **kwargs):
    embeddings = None if variant == "rand" else pretrained()
    dims = {"embedding_dim": DIM} if variant == "rand" else {}
    return models.kim_cnn(VOCAB, CLASSES, variant=variant, embeddings=embeddings, **dims, **{**TINY, **kwargs})


def token_ids(seed, batch=8, length=7):
    return np.random.default_rng(seed).integers(1, VOCAB, (batch, length)).astype("int32")


def padded(sentences, length):
    ids = np.zeros((len(sentences), length), dtype="int32")
    for row, sentence in enumerate(sentences):
        ids[row, : len(sentence)] = sentence
    return ids


@pytest.mark.parametrize("variant", models.VARIANTS)
def test_every_variant_outputs_a_softmax_over_the_classes(variant):
    probabilities = tiny(variant).predict(token_ids(1), verbose=0)
    assert probabilities.shape == (8, CLASSES) and (probabilities > 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_the_papers_defaults_are_three_windows_of_100_maps_on_300_dimensions():
    model = models.kim_cnn(VOCAB, 2)
    assert model.get_layer("embedding").output.shape[-1] == 300
    assert [model.get_layer(f"convolution_{w}").kernel.shape for w in (3, 4, 5)] == [(w, 300, 100) for w in (3, 4, 5)]
    assert model.get_layer("features").output.shape[-1] == 300 and model.get_layer("dropout").rate == 0.5
    constraint = model.get_layer("classes").kernel_constraint
    assert isinstance(constraint, keras.constraints.MaxNorm) and constraint.max_value == 3.0 and constraint.axis == 0


def test_trainable_weights_per_variant():
    def names(weights):
        return sorted(w.path.split("/")[0] for w in weights if "embedding" in w.path)

    counts = {}
    for variant in models.VARIANTS:
        model = tiny(variant)
        counts[variant] = (len(model.trainable_weights), len(model.non_trainable_weights))
        if variant == "static":
            assert names(model.trainable_weights) == [] and names(model.non_trainable_weights) == ["embedding"]
        if variant == "multichannel":
            assert names(model.trainable_weights) == ["non_static_embedding"]
            assert names(model.non_trainable_weights) == ["static_embedding"]
    # embedding(s) + kernel and bias per window + the softmax kernel and bias
    assert counts == {"rand": (7, 0), "static": (6, 1), "non-static": (7, 0), "multichannel": (7, 1)}


def test_pretrained_variants_start_from_the_given_matrix():
    for variant in ("static", "non-static", "multichannel"):
        model = tiny(variant)
        tables = [w for w in model.weights if "embedding" in w.path]
        assert len(tables) == (2 if variant == "multichannel" else 1)
        for table in tables:
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(table), pretrained())
    rand = keras.ops.convert_to_numpy(tiny("rand").get_layer("embedding").embeddings)
    assert np.abs(rand).max() <= 0.25 and np.abs(rand).max() > 0.2  # Kim's U[-0.25, 0.25]


def train_steps(model, steps=3, learning_rate=1.0, seed=2):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="sparse_categorical_crossentropy")
    labels = np.random.default_rng(seed).integers(0, CLASSES, 8)
    for step in range(steps):
        model.train_on_batch(token_ids(seed + step), labels)


def test_a_train_step_changes_the_fine_tuned_channel_and_leaves_the_frozen_one():
    model = tiny("multichannel", max_norm=None)
    train_steps(model, steps=1)
    frozen = keras.ops.convert_to_numpy(model.get_layer("static_embedding").embeddings)
    tuned = keras.ops.convert_to_numpy(model.get_layer("non_static_embedding").embeddings)
    np.testing.assert_array_equal(frozen, pretrained())
    assert not np.allclose(tuned, pretrained())
    static = tiny("static")
    train_steps(static, steps=1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(static.get_layer("embedding").embeddings), pretrained())


def class_weight_norms(model):
    kernel = keras.ops.convert_to_numpy(model.get_layer("classes").kernel)  # [features, classes]
    assert kernel.shape == (8, CLASSES)
    return np.linalg.norm(kernel, axis=0)  # one l2 norm per class's weight vector


def test_max_norm_bounds_each_class_weight_vector_after_large_steps():
    unconstrained = tiny(max_norm=None, dropout=0.0)
    train_steps(unconstrained, steps=4, learning_rate=50.0)
    assert class_weight_norms(unconstrained).max() > 3.5  # the steps are large enough to break the bound
    constrained = tiny(dropout=0.0)
    train_steps(constrained, steps=4, learning_rate=50.0)
    norms = class_weight_norms(constrained)
    assert norms.max() <= 3.0 + 1e-4 and norms.max() > 2.9


def test_windows_feature_maps_and_pooling_are_configurable():
    model = tiny(windows=(2, 4, 6, 8), feature_maps=5)
    assert [layer.kernel.shape for layer in model.layers if isinstance(layer, models.SentenceConvolution)] == \
        [(w, DIM, 5) for w in (2, 4, 6, 8)]
    assert model.get_layer("features").output.shape[-1] == 20
    single = tiny(windows=(3,), feature_maps=7, pooling="kmax", k=2)
    assert single.get_layer("dropout").output.shape[-1] == 14
    assert single.predict(token_ids(3, length=9), verbose=0).shape == (8, CLASSES)


def test_kmax_pooling_keeps_the_k_largest_values_in_sentence_order():
    features = np.array([[[1.0, 5.0], [4.0, 0.0], [2.0, 3.0], [3.0, 1.0]]], dtype="float32")  # [1, 4 positions, 2]
    pooled = keras.ops.convert_to_numpy(models.OverTimePooling("kmax", k=2)(features))
    np.testing.assert_array_equal(pooled, [[4.0, 3.0, 5.0, 3.0]])
    average = keras.ops.convert_to_numpy(models.OverTimePooling("average")(features))
    np.testing.assert_allclose(average, [[2.5, 2.25]])


@pytest.mark.parametrize("pooling", models.POOLINGS)
def test_masked_padding_does_not_change_the_output(pooling):
    model = tiny("non-static", mask_padding=True, pooling=pooling, k=2, windows=(2, 5))
    sentences = [[4, 7, 9, 11], [3], [5, 6, 8, 12, 13, 14], [2, 2]]  # two shorter than the window 5
    short, long = padded(sentences, 6), padded(sentences, 13)
    np.testing.assert_allclose(model.predict(short, verbose=0), model.predict(long, verbose=0), atol=1e-6)
    unmasked = tiny("non-static", pooling=pooling, k=2, windows=(2, 5))  # Kim's: padding takes part
    assert not np.allclose(unmasked.predict(short, verbose=0), unmasked.predict(long, verbose=0), atol=1e-6)


def test_bad_arguments_are_one_clear_error():
    with pytest.raises(ConvsuiteError, match="'static'.*pre-trained"):
        models.kim_cnn(VOCAB, CLASSES, variant="static")
    with pytest.raises(ConvsuiteError, match=r"\(5, 6\).*30 words"):
        models.kim_cnn(VOCAB, CLASSES, variant="multichannel", embeddings=np.zeros((5, 6)))
    with pytest.raises(ConvsuiteError, match="embedding_dim=8.*6 columns"):
        models.kim_cnn(VOCAB, CLASSES, variant="non-static", embeddings=pretrained(), embedding_dim=8)
    with pytest.raises(ConvsuiteError, match="'cnn-rand'"):
        models.kim_cnn(VOCAB, CLASSES, variant="cnn-rand")
    with pytest.raises(ConvsuiteError, match="'min'"):
        models.kim_cnn(VOCAB, CLASSES, pooling="min")
    with pytest.raises(ConvsuiteError, match="3 words but vocab_size=30"):
        models.kim_cnn(VOCAB, CLASSES, vocabulary=["<pad>", "a", "b"])
    with pytest.raises(ConvsuiteError, match="'rand'"):
        models.kim_cnn(VOCAB, CLASSES, embeddings=pretrained())
    too_short = models.kim_cnn(VOCAB, CLASSES, embedding_dim=DIM, feature_maps=2)
    short_error = "sentences of 2 tokens are shorter than the convolution window [35]; pad them"
    with pytest.raises(ConvsuiteError, match=short_error):
        too_short.predict(token_ids(0, length=2), verbose=0)
    with pytest.raises(ConvsuiteError, match="no VocabularyAsset"):
        models.model_vocabulary(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))


LOAD_SCRIPT = textwrap.dedent("""
    import json, sys
    import keras
    import numpy as np
    import convsuite.suites.text.models as models
    model = keras.saving.load_model(sys.argv[1])
    np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
    print(json.dumps({"backend": keras.backend.backend(), "vocabulary": models.model_vocabulary(model)}))
""")
CLI_IMPORT = "from convsuite.common.cli import main"


def test_a_saved_model_loads_in_fresh_processes_with_its_vocabulary_on_tensorflow_and_on_jax(tmp_path):
    vocabulary = ["<pad>", "<unk>", "naïve", "it's", "a\nb", *(f"word{i}" for i in range(VOCAB - 5))]
    model = tiny("multichannel", vocabulary=vocabulary, mask_padding=True, windows=(3, 5))
    train_steps(model, steps=1)
    ids = padded([[4, 7, 9, 11], [3], [5, 6, 8, 12, 13, 14, 2]], 8)
    expected = model.predict(ids, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    np.save(tmp_path / "ids.npy", ids)
    with zipfile.ZipFile(path) as archive:
        assert "word7" not in archive.read("config.json").decode()  # the words are an asset, not config
        assert any(name.startswith("assets/") for name in archive.namelist())

    # On JAX, TensorFlow cannot even be imported: the saved model must not need it.
    assert CLI_IMPORT in BLOCK_TENSORFLOW
    without_tensorflow = BLOCK_TENSORFLOW.split(CLI_IMPORT)[0] + LOAD_SCRIPT + \
        "assert 'tensorflow' not in sys.modules\n"
    runs = {}
    for backend, script in (("tensorflow", LOAD_SCRIPT), ("jax", without_tensorflow)):
        env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu"}
        runs[backend] = subprocess.Popen([sys.executable, "-c", script, str(path), str(tmp_path / "ids.npy"),
                                          str(tmp_path / f"{backend}.npy")], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, env=env)
    for backend, process in runs.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]
        report = json.loads(stdout.strip().splitlines()[-1])
        assert report == {"backend": backend, "vocabulary": vocabulary}
        np.testing.assert_allclose(np.load(tmp_path / f"{backend}.npy"), expected, atol=1e-6)
    loaded = keras.saving.load_model(path)
    assert models.model_vocabulary(loaded) == vocabulary
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), expected)
