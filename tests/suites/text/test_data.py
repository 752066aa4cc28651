"""The text suite's sentences and splits: the synthetic task's official split, the user's own
folder or sentence file, cross-validation folds with their dev sets, and the per-batch padding."""

import numpy as np
import pytest

from convsuite.common import registry
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text.data import BatchLongestPadding, evaluation_splits, load_sentences
from convsuite.suites.text.tokenizer import PAD_ID


def experiment(dataset, *overrides):
    return registry.make_experiment("text", "kim-rand-mr", [f"data.dataset={dataset}", *overrides])


def write_class_folder(folder, counts):
    folder.mkdir()
    for name, count in counts.items():
        lines = [f"{name} sentence number {i} here" for i in range(count)]
        (folder / f"{name}.txt").write_text("\n".join(lines[:2] + [""] + lines[2:]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def folder(tmp_path):
    return write_class_folder(tmp_path / "reviews", {"pos": 30, "neg": 20})


def test_the_negation_task_has_its_official_1500_500_split():
    sentences = load_sentences(registry.make_experiment("text", "kim-rand-negation"))
    assert len(sentences) == 2000 and sentences.class_names == ["negative", "positive"]
    np.testing.assert_array_equal(sentences.splits["train"], np.arange(1500))
    np.testing.assert_array_equal(sentences.splits["test"], np.arange(1500, 2000))
    assert "dev" not in sentences.splits


def test_a_folder_of_class_files_loads_with_the_file_names_as_sorted_classes(folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exp = experiment("reviews")
    sentences = load_sentences(exp)
    assert sentences.class_names == ["neg", "pos"] and len(sentences) == 50  # blank lines skipped
    assert np.bincount(sentences.labels).tolist() == [20, 30]
    assert sentences.texts[sentences.labels.tolist().index(1)].startswith("pos sentence")
    assert exp.data.dataset == str(folder.resolve())  # stored absolute for evaluate from elsewhere


def test_a_sentence_file_with_a_labels_file_loads_with_sorted_labels(tmp_path):
    (tmp_path / "texts.txt").write_text("a fine film\na dull film\nan ok film\n", encoding="utf-8")
    (tmp_path / "labels.txt").write_text("good\nbad\nmeh\n", encoding="utf-8")
    sentences = load_sentences(experiment(tmp_path / "texts.txt", f"data.labels_file={tmp_path / 'labels.txt'}"))
    assert sentences.class_names == ["bad", "good", "meh"]
    assert sentences.labels.tolist() == [1, 0, 2] and sentences.texts[1] == "a dull film"


def test_a_sentence_file_without_labels_file_is_one_clear_error(tmp_path):
    (tmp_path / "texts.txt").write_text("a fine film\n", encoding="utf-8")
    with pytest.raises(ConvsuiteError, match="give its labels with data.labels_file"):
        load_sentences(experiment(tmp_path / "texts.txt"))


def test_a_folder_with_one_class_file_is_one_clear_error(tmp_path):
    folder = write_class_folder(tmp_path / "one", {"pos": 5})
    with pytest.raises(ConvsuiteError, match=r"holds 1 \.txt file\(s\).*at least two"):
        load_sentences(experiment(folder))


def test_a_labels_file_of_another_line_count_is_one_clear_error(tmp_path):
    (tmp_path / "texts.txt").write_text("a fine film\na dull film\nan ok film\n", encoding="utf-8")
    (tmp_path / "labels.txt").write_text("good\nbad\n", encoding="utf-8")
    with pytest.raises(ConvsuiteError, match="has 3 lines but .* has 2"):
        load_sentences(experiment(tmp_path / "texts.txt", f"data.labels_file={tmp_path / 'labels.txt'}"))


def test_cross_validation_folds_hold_out_a_stratified_dev_set_from_training_only(folder):
    exp = experiment(folder, "data.folds=5")
    sentences = load_sentences(exp)
    splits = evaluation_splits(exp, sentences)
    assert len(splits) == 5
    everything = np.arange(len(sentences))
    np.testing.assert_array_equal(np.sort(np.concatenate([s.test for s in splits])), everything)  # disjoint, all
    for split in splits:
        assert not set(split.train) & set(split.dev) and not set(split.test) & (set(split.train) | set(split.dev))
        np.testing.assert_array_equal(np.sort(np.concatenate([split.train, split.dev, split.test])), everything)
        fold_train = np.concatenate([split.train, split.dev])
        expected_dev = [round(0.1 * np.sum(sentences.labels[fold_train] == c)) for c in (0, 1)]
        assert np.bincount(sentences.labels[split.dev], minlength=2).tolist() == expected_dev


def test_splits_are_fixed_by_the_seed(folder):
    def splits(seed):
        exp = experiment(folder, "data.folds=5", f"trainer.seed={seed}")
        return [(s.train.tolist(), s.dev.tolist(), s.test.tolist())
                for s in evaluation_splits(exp, load_sentences(exp))]

    assert splits(0) == splits(0) and splits(0) != splits(1)


def test_folds_to_run_keeps_the_first_folds(folder):
    exp = experiment(folder, "data.folds=5")
    every = evaluation_splits(exp, load_sentences(exp))
    exp = experiment(folder, "data.folds=5", "data.folds_to_run=2")
    first = evaluation_splits(exp, load_sentences(exp))
    assert [s.test.tolist() for s in first] == [s.test.tolist() for s in every[:2]]


def test_the_official_split_keeps_test_out_of_train_and_dev():
    exp = registry.make_experiment("text", "kim-rand-negation")
    sentences = load_sentences(exp)
    [split] = evaluation_splits(exp, sentences)
    np.testing.assert_array_equal(split.test, np.arange(1500, 2000))
    np.testing.assert_array_equal(np.sort(np.concatenate([split.train, split.dev])), np.arange(1500))
    assert len(split.dev) == 150 and not set(split.train) & set(split.dev)
    assert np.bincount(sentences.labels[split.dev]).tolist() == [
        round(0.1 * n) for n in np.bincount(sentences.labels[:1500])]


def test_evaluation_split_on_a_set_without_a_test_split_is_refused(folder):
    exp = experiment(folder, "data.evaluation=split")
    with pytest.raises(ConvsuiteError, match="no official test split.*data.evaluation=cv"):
        evaluation_splits(exp, load_sentences(exp))


def padded_batch(lengths, width, seed=0):
    rng = np.random.default_rng(seed)
    batch = np.full((len(lengths), width), PAD_ID, dtype=np.int32)
    for row, length in enumerate(lengths):
        batch[row, :length] = rng.integers(2, 50, size=length)
    return batch


@pytest.mark.parametrize("lengths, bucket, min_length, width", [
    ([3, 5], 8, 1, 8), ([3, 5], 1, 1, 5), ([16, 2], 8, 1, 16), ([17], 8, 1, 24), ([2, 1], 1, 5, 5),
    ([2, 1], 4, 5, 8), ([0, 0], 1, 1, 1)])
def test_batches_are_trimmed_to_the_longest_sentence_rounded_up_to_the_bucket(lengths, bucket, min_length, width):
    batch = padded_batch(lengths, 20)
    trimmed = BatchLongestPadding(bucket, min_length)(batch)
    assert trimmed.shape == (len(lengths), width) and trimmed.dtype == np.int32
    np.testing.assert_array_equal(trimmed[:, : min(width, 20)], batch[:, : min(width, 20)])


def test_a_batch_narrower_than_min_length_is_padded_up_to_it():
    batch = padded_batch([2, 3], 3)
    trimmed = BatchLongestPadding(bucket=1, min_length=5)(batch)
    assert trimmed.shape == (2, 5) and (trimmed[:, 3:] == PAD_ID).all()
    np.testing.assert_array_equal(trimmed[:, :3], batch)


def test_trimming_never_cuts_a_real_token():
    rng = np.random.default_rng(1)
    for trial in range(50):
        lengths = rng.integers(0, 30, size=rng.integers(1, 6))
        batch = padded_batch(lengths, 30, seed=trial)
        trimmed = BatchLongestPadding(int(rng.integers(1, 10)), int(rng.integers(1, 6)))(batch)
        assert (trimmed != PAD_ID).sum() == (batch != PAD_ID).sum()
        assert trimmed.shape[1] >= max(lengths.max(), 1)
