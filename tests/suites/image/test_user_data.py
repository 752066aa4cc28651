"""Users' own images: a folder of class subfolders or a .npz file, trained and evaluated like
a registered dataset, and every bad input refused with one sentence."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from convsuite.common.data import load_user_images
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.image.config import EXPERIMENTS
from convsuite.suites.image.data import USER_DATA_HELP, prepare, user_data_path

SHAPES = ("circle", "square", "bar")


def shape_image(shape: str, rng: np.random.Generator, size: int = 16) -> np.ndarray:
    """A bright shape at a random offset on a noisy dark background."""
    yy, xx = np.mgrid[:size, :size]
    cy, cx = rng.integers(6, size - 6, 2)
    if shape == "circle":
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= 16
    elif shape == "square":
        mask = (abs(yy - cy) <= 3) & (abs(xx - cx) <= 3)
    else:
        mask = (abs(yy - cy) <= 1) & (abs(xx - cx) <= 5)
    image = rng.integers(0, 40, (size, size))
    image[mask] = 220
    return image.astype(np.uint8)


def write_class_folder(root, per_class: int = 20, seed: int = 0, mode: str = "L", suffix: str = ".png"):
    rng = np.random.default_rng(seed)
    for shape in SHAPES:
        (root / shape).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(shape_image(shape, rng)).convert(mode).save(root / shape / f"{i:02d}{suffix}")
    return root


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return write_class_folder(tmp_path_factory.mktemp("user") / "photos")


def experiment_on(dataset, **data):
    experiment = EXPERIMENTS["lenet5-fashion"]()
    experiment.data.dataset = str(dataset)
    experiment.data.pad_to = 0
    for key, value in data.items():
        setattr(experiment.data, key, value)
    return experiment


def test_a_class_folder_gives_stratified_seeded_splits_with_folder_names_as_classes(photos):
    data, dataset = prepare(experiment_on(photos, image_size=32, channels=1))
    assert dataset.class_names == ["bar", "circle", "square"]
    assert dataset.num_classes == 3
    # 60 images: 20% of each class (4) held out for testing, 10% of the rest for validation.
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (43, 5, 12)
    assert np.bincount(data.y_test).tolist() == [4, 4, 4]
    assert data.x_train.shape[1:] == (32, 32, 1) and data.x_train.dtype == np.uint8


def test_the_test_split_is_the_same_for_the_same_seed_and_differs_for_another(photos):
    first = load_user_images(photos, test_fraction=0.2, seed=3)
    again = load_user_images(photos, test_fraction=0.2, seed=3)
    other = load_user_images(photos, test_fraction=0.2, seed=4)
    np.testing.assert_array_equal(first.x_test, again.x_test)
    np.testing.assert_array_equal(first.y_test, again.y_test)
    assert not np.array_equal(first.x_test, other.x_test)


def test_train_and_test_subfolders_are_used_as_given(tmp_path):
    write_class_folder(tmp_path / "set" / "train", per_class=6, seed=1)
    write_class_folder(tmp_path / "set" / "test", per_class=2, seed=2)
    dataset = load_user_images(tmp_path / "set")
    assert (len(dataset.y_train), len(dataset.y_test)) == (18, 6)
    assert dataset.class_names == ["bar", "circle", "square"]
    assert np.bincount(dataset.y_test).tolist() == [2, 2, 2]


def test_channels_convert_grey_and_colour_and_keep_mixes_them_as_rgb(tmp_path):
    write_class_folder(tmp_path / "grey", per_class=3, mode="L")
    assert load_user_images(tmp_path / "grey").x_train.shape[-1] == 1
    assert load_user_images(tmp_path / "grey", channels=3).x_train.shape[-1] == 3
    write_class_folder(tmp_path / "colour", per_class=3, mode="RGB", suffix=".jpg")
    rgb = load_user_images(tmp_path / "colour")
    assert rgb.x_train.shape[-1] == 3
    assert load_user_images(tmp_path / "colour", channels=1).x_train.shape[-1] == 1
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "grey" / "bar" / "rgb.bmp")
    assert load_user_images(tmp_path / "grey").x_train.shape[-1] == 3


def test_images_of_different_sizes_need_image_size_and_the_error_names_two_files(tmp_path):
    root = write_class_folder(tmp_path / "mixed", per_class=3)
    Image.fromarray(np.zeros((20, 24), np.uint8)).save(root / "square" / "big.gif")
    with pytest.raises(ConvsuiteError, match=r"bar/00.png is 16x16 pixels but .*square/big.gif is 24x20; set data.image_size"):
        load_user_images(root)
    assert load_user_images(root, image_size=12).x_train.shape[1:] == (12, 12, 1)


@pytest.mark.parametrize("layout, message", [
    ("empty", "has no class subfolders"),
    ("loose", "holds images .* but no class subfolders"),
    ("one_class", "only one class folder"),
    ("no_images", r"class folder .*square holds no png/jpg/jpeg/bmp/gif images"),
    ("corrupt", r"circle/broken.png could not be read as an image"),
    ("missing", "does not exist"),
])
def test_a_bad_folder_is_one_error_naming_the_problem(tmp_path, layout, message):
    root = tmp_path / "photos"
    root.mkdir()
    if layout == "loose":
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "a.png")
    elif layout == "one_class":
        write_class_folder(root, per_class=2)
        for shape in ("circle", "square"):
            for file in (root / shape).iterdir():
                file.unlink()
            (root / shape).rmdir()
    elif layout == "no_images":
        write_class_folder(root, per_class=2)
        for file in (root / "square").iterdir():
            file.unlink()
        (root / "square" / "notes.txt").write_text("not an image")
    elif layout == "corrupt":
        write_class_folder(root, per_class=2)
        (root / "circle" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    elif layout == "missing":
        root = tmp_path / "nowhere"
    with pytest.raises(ConvsuiteError, match=message):
        load_user_images(root)


def make_arrays(n=30, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = np.stack([shape_image(SHAPES[label], rng) for label in y])
    return x, y


def test_an_npz_with_its_own_splits_or_one_split_loads_as_uint8_images(tmp_path):
    x, y = make_arrays()
    np.savez(tmp_path / "given.npz", x_train=x[:24], y_train=y[:24], x_test=x[24:], y_test=y[24:],
             class_names=np.array(list(SHAPES)))
    given = load_user_images(tmp_path / "given.npz")
    assert (given.x_train.shape, given.x_test.shape) == ((24, 16, 16, 1), (6, 16, 16, 1))
    assert given.class_names == list(SHAPES)
    np.savez(tmp_path / "whole.npz", x=x.astype(np.float32), y=y)  # float pixels 0-255 are fine
    whole = load_user_images(tmp_path / "whole.npz", channels=3, image_size=8, test_fraction=0.2)
    assert (len(whole.y_train), len(whole.y_test)) == (24, 6)
    assert whole.x_train.shape[1:] == (8, 8, 3) and whole.x_train.dtype == np.uint8
    assert whole.class_names == ["0", "1", "2"]


@pytest.mark.parametrize("arrays, message", [
    (lambda x, y: dict(x=x, y=y + 1), r"labels must be the integers 0..K-1 .* holds 1, 2, 3 \(no 0\)"),
    (lambda x, y: dict(x=x, y=y - 1), "holds label -1"),
    (lambda x, y: dict(x_train=x, y_train=y, x_test=x[:3], y_test=np.array([0, 1, 5])), r"y_test holds labels 0..5 but there are 3 classes"),
    (lambda x, y: dict(x=x, y=y[:-1]), "x holds 30 images but y holds 29 labels"),
    (lambda x, y: dict(x=x / 255.0, y=y), r"pixels in \[0, 1\] but the image suite reads 0-255"),
    (lambda x, y: dict(x=x * 2.0, y=y), "pixels from 0 to 440, outside 0-255"),
    (lambda x, y: dict(x=x.astype(np.uint16) * 257, y=y), "uint16 pixels from 0 to 56540, outside 0-255"),
    (lambda x, y: dict(x=x > 100, y=y), "dtype bool; store images as uint8"),
    (lambda x, y: dict(x=x, y=y + 0.5), "non-integer labels"),
    (lambda x, y: dict(x=x, y=np.eye(3)[y]), r"shape \(30, 3\); give one integer class label per image"),
    (lambda x, y: dict(images=x, labels=y), "holds arrays images, labels; it needs x_train"),
    (lambda x, y: dict(x=x[:, 0], y=y), r"x has shape \(30, 16\); images must be"),
])
def test_a_bad_npz_is_one_error_naming_the_problem(tmp_path, arrays, message):
    x, y = make_arrays()
    np.savez(tmp_path / "bad.npz", **arrays(x, y))
    with pytest.raises(ConvsuiteError, match=message):
        load_user_images(tmp_path / "bad.npz")


def test_a_file_that_is_not_an_npz_is_one_error(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ConvsuiteError, match="could not be read as a NumPy .npz file"):
        load_user_images(tmp_path / "junk.npz")
    (tmp_path / "table.csv").write_text("1,2\n")
    with pytest.raises(ConvsuiteError, match="neither a folder of class subfolders nor a .npz file"):
        load_user_images(tmp_path / "table.csv")


def test_registered_names_stay_datasets_and_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digits").mkdir()  # a folder named like a registered dataset does not shadow it
    assert user_data_path("digits") is None
    assert user_data_path("fashion_mnist") is None
    assert user_data_path("./digits") == (tmp_path / "digits").resolve()
    (tmp_path / "mine").mkdir()
    assert user_data_path("mine") == (tmp_path / "mine").resolve()


def test_help_names_the_command_to_train_and_evaluate_on_own_images():
    assert "--set data.dataset=/path/to/photos" in USER_DATA_HELP
    assert "convsuite evaluate image --checkpoint" in USER_DATA_HELP


def test_train_then_evaluate_on_a_relative_folder_reads_the_same_split_from_elsewhere(photos, tmp_path, monkeypatch):
    from convsuite.suites.image.train import evaluate, train

    monkeypatch.chdir(photos.parent)
    experiment = experiment_on("./photos", image_size=32, channels=1)
    experiment.trainer.epochs, experiment.trainer.batch_size, experiment.trainer.progress = 1, 16, False
    experiment.trainer.run_dir = str(tmp_path / "run")
    metrics = train(experiment, resume=False)
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for key in ("test_accuracy", "test_loss", "val_accuracy", "train_examples", "test_examples", "epochs"):
        assert key in written
    assert (written["train_examples"], written["test_examples"], written["epochs"]) == (43, 12, 1)
    assert str(photos) in (tmp_path / "run" / "config.toml").read_text()  # stored as an absolute path

    monkeypatch.chdir(tmp_path)  # evaluate elsewhere: same folder, same split, same numbers
    result = evaluate(tmp_path / "run")
    assert result["test_examples"] == 12
    assert result["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert not os.path.exists(tmp_path / "photos")
