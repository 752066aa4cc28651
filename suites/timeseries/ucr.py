"""UCR/UEA classification sets: the ones aeon bundles, or any set's ``_TRAIN.ts`` / ``_TEST.ts``
pair in a folder; unequal-length series are NaN-padded at the end. numpy only; no Keras."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.series import _require

# UCR/UEA classification sets that aeon ships with both _TRAIN.ts and _TEST.ts (aeon 1.x,
# aeon/datasets/data/<name>/). JapaneseVowels and PickupGestureWiimoteZ have unequal lengths.
UCR_BUNDLED = (
    "ACSF1",
    "ArrowHead",
    "BasicMotions",
    "GunPoint",
    "ItalyPowerDemand",
    "JapaneseVowels",
    "OSULeaf",
    "PickupGestureWiimoteZ",
)

# Published test accuracies: model.name -> set -> {source: accuracy}, None where no paper reports the set.
#   Wang et al. 2017: the authors' table of test error rates on the 85 sets of the UCR 2015 archive
#     (one number per set; GunPoint 0, ItalyPower 0.03 are printed so), given here as 1 - error.
#   Fawaz et al. 2019 ("Deep learning for time series classification: a review"): mean test accuracy
#     of 10 runs, UCR 2015 archive and Baydogan's multivariate archive (JapaneseVowels).
#   Fawaz et al. 2020 (InceptionTime, an ensemble of 5 networks): the paper's results on the UCR 2015
#     archive. "Fawaz et al. 2020, repository" marks the authors' later results files (the 128 sets of
#     the UCR 2018 archive, the UEA multivariate archive), which are not tables of the paper.
# ACSF1 and PickupGestureWiimoteZ joined the archive in 2018 and BasicMotions is a UEA 2018 set, so
# the 2017/2019 papers have no FCN or ResNet number for them.
PUBLISHED_ACCURACY: dict[str, dict[str, dict[str, float] | None]] = {
    "fcn": {
        "ACSF1": None,
        "ArrowHead": {"Wang et al. 2017": 0.880, "Fawaz et al. 2019": 0.843},
        "BasicMotions": None,
        "GunPoint": {"Wang et al. 2017": 1.000, "Fawaz et al. 2019": 1.000},
        "ItalyPowerDemand": {"Wang et al. 2017": 0.970, "Fawaz et al. 2019": 0.961},
        "JapaneseVowels": {"Fawaz et al. 2019": 0.993},
        "OSULeaf": {"Wang et al. 2017": 0.988, "Fawaz et al. 2019": 0.977},
        "PickupGestureWiimoteZ": None,
    },
    "resnet": {
        "ACSF1": None,
        "ArrowHead": {"Wang et al. 2017": 0.817, "Fawaz et al. 2019": 0.845},
        "BasicMotions": None,
        "GunPoint": {"Wang et al. 2017": 0.993, "Fawaz et al. 2019": 0.991},
        "ItalyPowerDemand": {"Wang et al. 2017": 0.960, "Fawaz et al. 2019": 0.963},
        "JapaneseVowels": {"Fawaz et al. 2019": 0.992},
        "OSULeaf": {"Wang et al. 2017": 0.979, "Fawaz et al. 2019": 0.979},
        "PickupGestureWiimoteZ": None,
    },
    "inception": {
        "ACSF1": {"Fawaz et al. 2020, repository": 0.920},
        "ArrowHead": {"Fawaz et al. 2020": 0.829},
        "BasicMotions": {"Fawaz et al. 2020, repository": 1.000},
        "GunPoint": {"Fawaz et al. 2020": 1.000},
        "ItalyPowerDemand": {"Fawaz et al. 2020": 0.968},
        "JapaneseVowels": {"Fawaz et al. 2020, repository": 0.992},
        "OSULeaf": {"Fawaz et al. 2020": 0.934},
        "PickupGestureWiimoteZ": {"Fawaz et al. 2020, repository": 0.760},
    },
}
# The reference a run is held to: a mean of several runs before a single run's number, a paper before
# the authors' later files.
REFERENCE_ORDER = ("Fawaz et al. 2019", "Fawaz et al. 2020", "Wang et al. 2017", "Fawaz et al. 2020, repository")


def published_accuracy(model: str, dataset: str) -> tuple[str, float] | None:
    """(source, accuracy) that ``model`` on ``dataset`` is compared with, or None when unpublished."""
    numbers = PUBLISHED_ACCURACY.get(model, {}).get(dataset) or {}
    for source in REFERENCE_ORDER:
        if source in numbers:
            return source, numbers[source]
    return None



@dataclass
class ClassificationSet:
    """A UCR/UEA train/test pair; unequal-length series are NaN-padded at the end."""

    name: str
    x_train: np.ndarray  # (N, T_max, C) float32
    y_train: np.ndarray  # (N,) int64 in 0..K-1
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    lengths_train: np.ndarray  # (N,) true lengths
    lengths_test: np.ndarray
    source: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_channels(self) -> int:
        return int(self.x_train.shape[2])

    @property
    def variable_length(self) -> bool:
        longest = self.x_train.shape[1]
        return bool((self.lengths_train != longest).any() or (self.lengths_test != longest).any())


def _aeon_data_dir() -> Path | None:
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent / "datasets" / "data"


def _true_length(series: np.ndarray) -> int:
    """Steps up to the last one where any channel is finite: trailing all-NaN rows are padding."""
    finite = np.isfinite(series).any(axis=1)
    return int(len(finite) - np.argmax(finite[::-1])) if finite.any() else 0


def _read_ts(path: Path, what: str):
    """One .ts file as a list of (T_i, C) float64 arrays, their true lengths and label strings."""
    _require("aeon", "aeon")
    from aeon.datasets import load_from_ts_file

    try:
        data, labels, meta = load_from_ts_file(str(path), return_meta_data=True)
    except Exception as error:  # aeon raises IOError, ValueError or IndexError on malformed files
        raise ConvsuiteError(f"{path} is not a readable .ts file ({error}); check its header and @data lines") from None
    if not meta.get("classlabel"):
        raise ConvsuiteError(f"{path} has no @classLabel, so it is not a classification set; load_ucr reads classification sets only")
    series = [np.asarray(item, dtype=np.float64).T for item in data]  # aeon gives (C, T_i)
    lengths = np.array([_true_length(item) for item in series], dtype=np.int64)
    for index, (item, length) in enumerate(zip(series, lengths)):
        if length == 0:
            raise ConvsuiteError(f"{what}: series {index} of {path.name} has no finite value; remove it from the file")
        bad = ~np.isfinite(item[:length])
        if bad.any():
            step, channel = divmod(int(np.argmax(bad)), item.shape[1])
            raise ConvsuiteError(f"{what}: series {index} of {path.name} has {int(bad.sum())} NaN or infinite values within its "
                                 f"length {length}, the first at step {step}, channel {channel}; clean the file or drop that series")
    return series, lengths, [str(label) for label in labels]


def load_ucr(name: str, data_dir: str = "") -> ClassificationSet:
    """A UCR/UEA classification set from a user's archive folder, or from the copies aeon ships.

    Reads <name>_TRAIN.ts and <name>_TEST.ts from data_dir/<name>/ (or data_dir itself), then
    from aeon's bundled folder; it never downloads. Labels map to 0..K-1 in sorted order of the
    label strings, the same for both splits.
    """
    bundled = _aeon_data_dir()
    folders = [Path(data_dir) / name, Path(data_dir)] if data_dir else []
    if bundled is not None:
        folders.append(bundled / name)
    for folder in folders:
        train_path, test_path = folder / f"{name}_TRAIN.ts", folder / f"{name}_TEST.ts"
        if train_path.is_file() and test_path.is_file():
            break
    else:
        if not data_dir and bundled is None:
            _require("aeon", "aeon")
        where = f"{Path(data_dir) / name} or aeon's bundled sets" if data_dir else "aeon's bundled sets"
        raise ConvsuiteError(f"UCR set {name!r} is not in {where} (bundled: {', '.join(UCR_BUNDLED)}); download {name} from "
                             f"the UCR/UEA time series classification archive and pass data.data_dir=<folder holding {name}/{name}_TRAIN.ts>")
    train, lengths_train, labels_train = _read_ts(train_path, f"{name} training split")
    test, lengths_test, labels_test = _read_ts(test_path, f"{name} test split")
    channels = {item.shape[1] for item in train + test}
    if len(channels) != 1:
        raise ConvsuiteError(f"{name}: series have {sorted(channels)} channels across its files; every series needs the same channel count")
    num_channels = channels.pop()

    longest = int(max(lengths_train.max(), lengths_test.max()))

    def pad(series, lengths):
        x = np.full((len(series), longest, num_channels), np.nan, dtype=np.float32)
        for index, (item, length) in enumerate(zip(series, lengths)):
            x[index, :length] = item[:length]
        return x

    class_names = sorted(set(labels_train) | set(labels_test))
    code = {label: index for index, label in enumerate(class_names)}
    y_train = np.array([code[label] for label in labels_train], dtype=np.int64)
    y_test = np.array([code[label] for label in labels_test], dtype=np.int64)
    return ClassificationSet(name, pad(train, lengths_train), y_train, pad(test, lengths_test), y_test,
                             class_names, lengths_train, lengths_test, str(train_path.parent))
