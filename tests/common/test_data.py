"""Dataset registry: offline sources load with the right shapes, missing data says how to get it."""

import gzip
import struct

import numpy as np
import pytest

from tests.requirements import require

from convsuite.common import data as data_lib
from convsuite.common.data import load_dataset, read_idx, validate_arrays
from convsuite.common.errors import ConvsuiteError


def write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def make_fashion_folder(folder, n_train=12, n_test=5):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n_train, 28, 28)))
    write_idx(folder / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, n_train))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (n_test, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, n_test))


def test_idx_reader_reads_back_what_was_written(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), array)


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    path = tmp_path / "t.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(struct.pack(">HBB", 0, 8, 1) + struct.pack(">I", 10) + b"\x00" * 3)
    with pytest.raises(ConvsuiteError, match="truncated"):
        read_idx(path)


def test_fashion_mnist_reads_a_data_dir_before_the_debian_package(tmp_path):
    make_fashion_folder(tmp_path / "fashion_mnist")
    dataset = load_dataset("fashion_mnist", str(tmp_path))
    assert dataset.x_train.shape == (12, 28, 28, 1) and dataset.x_test.shape == (5, 28, 28, 1)
    assert dataset.x_train.dtype == np.uint8 and dataset.num_classes == 10


def test_missing_fashion_mnist_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data_lib, "FASHION_DEBIAN_DIR", tmp_path / "nowhere")
    with pytest.raises(ConvsuiteError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion_mnist", str(tmp_path))


def test_debian_fashion_mnist_is_the_full_70k():
    """scripts/setup.sh installs the Debian package; this fails if set-up missed it."""
    dataset = load_dataset("fashion_mnist", "/nonexistent")
    assert dataset.x_train.shape == (60000, 28, 28, 1) and dataset.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(dataset.y_test).tolist() == [1000] * 10


def test_offline_digit_sets_have_fixed_stratified_splits():
    mnist5k = load_dataset("mnist5k")
    assert mnist5k.x_train.shape == (4000, 28, 28, 1) and mnist5k.x_test.shape == (1000, 28, 28, 1)
    assert np.bincount(mnist5k.y_test).tolist() == [100] * 10
    digits = load_dataset("digits")
    assert digits.x_train.shape == (1437, 8, 8, 1) and digits.x_test.shape == (360, 8, 8, 1)
    assert digits.x_train.max() == 255
    np.testing.assert_array_equal(load_dataset("digits").y_test, digits.y_test)


def test_subset_is_class_balanced_and_deterministic():
    digits = load_dataset("digits")
    small = digits.subset(train=100, test=50, seed=3)
    assert len(small.y_train) == 100 and len(small.y_test) == 50
    assert np.bincount(small.y_train, minlength=10).min() >= 9
    np.testing.assert_array_equal(small.y_train, digits.subset(train=100, test=50, seed=3).y_train)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ConvsuiteError, match="unknown dataset 'fashon'.*fashion_mnist"):
        load_dataset("fashon")


def test_bad_arrays_are_rejected_with_the_values_involved():
    x = np.zeros((4, 8, 8, 1), np.float32)
    with pytest.raises(ConvsuiteError, match=r"labels must lie in 0..9, found 0..10"):
        validate_arrays(x, np.array([0, 1, 2, 10]), 10, "train")
    x[1, 0, 0, 0] = np.nan
    with pytest.raises(ConvsuiteError, match="1 images contain NaN"):
        validate_arrays(x, np.array([0, 1, 2, 3]), 10, "train")
    with pytest.raises(ConvsuiteError, match="4 images but 3 labels"):
        validate_arrays(x, np.array([0, 1, 2]), 10, "train")


def test_unprepared_tfds_dataset_fails_fast_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with pytest.raises(ConvsuiteError, match=r"mnist is not prepared in .*download_and_prepare"):
        load_dataset("mnist")


def test_tfds_loader_reads_a_prepared_dataset(tmp_path):
    """The real tensorflow-datasets path, on a tiny dataset prepared offline in the test."""
    tfds = require("tensorflow_datasets", "dev")

    class TinyImages(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(6, 6, 1)), "label": tfds.features.ClassLabel(num_classes=3)}),
                supervised_keys=("image", "label"))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(9), "test": self._generate_examples(4)}

        def _generate_examples(self, n):
            rng = np.random.default_rng(n)
            for i in range(n):
                yield i, {"image": rng.integers(0, 256, (6, 6, 1), dtype=np.uint8), "label": i % 3}

    tfds.builder("tiny_images", data_dir=str(tmp_path / "tensorflow_datasets")).download_and_prepare()
    dataset = data_lib._tfds_dataset("tiny", "tiny_images", str(tmp_path), 3, ["a", "b", "c"])
    assert dataset.x_train.shape == (9, 6, 6, 1) and dataset.x_test.shape == (4, 6, 6, 1)
    assert sorted(dataset.y_train.tolist()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
