"""Classification of UCR/UEA sets with FCN or ResNet (Wang, Yan & Oates 2017) or InceptionTime
(Ismail Fawaz et al. 2020): per set one network, or an ensemble whose class probabilities are
averaged, each next to 1-NN Euclidean distance, the majority class and the published accuracies.

Training follows Fawaz et al. 2019 ("Deep learning for time series classification: a review") as
far as the shared trainer goes: Adam, batches of min(N/10, trainer.batch_size) series
(``data.batch_fraction``), and the test set scored by the model of the lowest training loss
(``data.scored_model=best`` with ``trainer.monitor=loss``). The paper halves the learning rate on
plateaus of the training loss; the trainer decays it geometrically (``trainer.lr_decay_per_epoch``).
No choice (epochs, model, members) looks at the test set.

Run layout: ``RUN/<set>/`` holds the run of a single network; an ensemble of n holds its members in
``RUN/<set>/member<i>/``, member i trained with seed ``trainer.seed + 1000 i`` (so runs with
consecutive seeds share no member).
"""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path

import numpy as np

from convsuite.common import config as config_lib
from convsuite.common import trainer as trainer_lib
from convsuite.common.arrays import SupervisedData
from convsuite.common.checkpoint import atomic_write_text, load_model_checked
from convsuite.common.errors import ConvsuiteError
from convsuite.common.results import write_metrics
from convsuite.common.trainer import run_directory
from convsuite.suites.timeseries import baselines
from convsuite.suites.timeseries.config import DEFAULT_ENSEMBLE, TimeSeriesExperiment
from convsuite.suites.timeseries.models import build_model
from convsuite.suites.timeseries.series import check_channels
from convsuite.suites.timeseries.tasks import described
from convsuite.suites.timeseries.ucr import PUBLISHED_ACCURACY, ClassificationSet, load_ucr, published_accuracy

MEMBER_SEED_STRIDE = 1000


def _ucr_names(experiment) -> list[str]:
    names = [name.strip() for name in experiment.data.dataset.split(",") if name.strip()]
    if not names:
        raise ConvsuiteError("data.dataset must name at least one UCR set, e.g. GunPoint or GunPoint,ArrowHead")
    return names


def ensemble_size(experiment) -> int:
    """Networks per set: ``model.ensemble``, or the architecture's own (5 for InceptionTime, else 1)."""
    return int(experiment.model.ensemble) or DEFAULT_ENSEMBLE.get(experiment.model.name, 1)


def member_seed(seed: int, member: int) -> int:
    return int(seed) + MEMBER_SEED_STRIDE * int(member)


def member_dirs(run_dir: str | Path, name: str, members: int) -> list[Path]:
    """Run directories of one set's networks (see the module docstring)."""
    folder = Path(run_dir) / name
    return [folder] if members == 1 else [folder / f"member{i}" for i in range(members)]


def batch_size(experiment, num_series: int) -> int:
    """min(trainer.batch_size, floor(data.batch_fraction x N)), at least 1: Fawaz et al.'s min(N/10, 16)."""
    share = math.floor(experiment.data.batch_fraction * num_series + 1e-9)
    return max(1, min(int(experiment.trainer.batch_size), share, num_series))


def average_probabilities(probabilities) -> np.ndarray:
    """Mean class probabilities of an ensemble's members: list of (N, K) -> (N, K)."""
    stacked = np.stack([np.asarray(p, dtype=np.float64) for p in probabilities])
    if stacked.ndim != 3:
        raise ConvsuiteError(f"member probabilities must all be (series, classes) arrays, got shape {stacked.shape}")
    return stacked.mean(axis=0)


def scores(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy and mean cross-entropy of class probabilities against integer labels."""
    labels = np.asarray(labels, dtype=np.int64)
    picked = probabilities[np.arange(len(labels)), labels]
    return {"accuracy": float(np.mean(np.argmax(probabilities, axis=1) == labels)),
            "loss": float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0))))}


def _classification_data(dataset: ClassificationSet) -> SupervisedData:
    empty_x = dataset.x_train[:0]
    return SupervisedData(dataset.x_train, dataset.y_train, empty_x, dataset.y_train[:0],
                          dataset.x_test, dataset.y_test)


def _chance(dataset) -> float:
    """Accuracy of always answering the most frequent training class."""
    majority = np.bincount(dataset.y_train).argmax()
    return float(np.mean(dataset.y_test == majority))


def _predict(model, x) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=256, verbose=0), dtype=np.float64)


def _scored_model(model, run_dir: Path, which: str):
    """The model that scores the test set: the final one, or best.keras (BatchNorm statistics
    already recomputed by the trainer) when asked for and written."""
    if which == "best":
        best = run_dir / "best.keras"
        if best.exists():
            return load_model_checked(best), "best"
        warnings.warn(f"{run_dir} has no best.keras (trainer.monitor never reported); scoring the final model",
                      UserWarning, stacklevel=2)
    return model, "final"


def train(experiment: TimeSeriesExperiment, resume: bool = True) -> dict:
    """Train the experiment's classifier on every named UCR set (``RUN/<set>/``, see the module
    docstring); RUN/metrics.json sums them up against 1-NN, chance and the published numbers."""
    run_dir = run_directory(experiment)
    members = ensemble_size(experiment)
    per_set = {}
    for name in _ucr_names(experiment):
        dataset = load_ucr(name, experiment.data.data_dir)
        batch = batch_size(experiment, len(dataset.y_train))
        print(f"{experiment.model.name} on {name}: {len(dataset.y_train)} train / {len(dataset.y_test)} test series, "
              f"{dataset.num_channels} channel(s), {dataset.num_classes} classes, batch {batch}"
              + (f", {members} networks" if members > 1 else ""))
        data = _classification_data(dataset)
        nn1 = baselines.nearest_neighbour_accuracy(dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)
        baseline = {"nn1_euclidean_accuracy": nn1, "chance_accuracy": _chance(dataset)}
        probabilities, member_results = [], []
        for member, folder in enumerate(member_dirs(run_dir, name, members)):
            sub = copy.deepcopy(experiment)
            sub.name, sub.data.dataset = f"{experiment.name}-{name}", name
            sub.trainer.run_dir = str(folder)
            sub.trainer.batch_size = batch
            sub.trainer.seed = member_seed(experiment.trainer.seed, member)
            scored = {}

            def report(model, sub=sub, folder=folder, scored=scored, member=member):
                chosen, which = _scored_model(model, folder, experiment.data.scored_model)
                scored["probabilities"] = _predict(chosen, dataset.x_test)
                return {**described(sub), **baseline, "member": member, "seed": sub.trainer.seed,
                        "scored_model": which,
                        "scored_test_accuracy": scores(scored["probabilities"], dataset.y_test)["accuracy"]}

            metrics = trainer_lib.train(
                sub, lambda d=dataset: build_model(experiment, num_inputs=d.num_channels, num_outputs=d.num_classes),
                data, resume=resume, report=report)
            probabilities.append(scored["probabilities"])
            member_results.append(metrics)
        per_set[name] = _set_summary(experiment, name, dataset, probabilities, member_results, baseline)
    return _classification_summary(experiment, run_dir, per_set, members)


def _published(model: str, name: str) -> dict:
    reference = published_accuracy(model, name)
    return {"published_accuracy": None if reference is None else reference[1],
            "published_source": None if reference is None else reference[0],
            "published": {m: PUBLISHED_ACCURACY[m].get(name) for m in PUBLISHED_ACCURACY}}


def _set_summary(experiment, name, dataset, probabilities, member_results, baseline) -> dict:
    result = {"test_accuracy": scores(average_probabilities(probabilities), dataset.y_test)["accuracy"], **baseline,
              "epochs": member_results[0]["epochs"], "batch_size": batch_size(experiment, len(dataset.y_train)),
              "scored_model": member_results[0]["scored_model"]}
    if len(member_results) > 1:
        result["member_test_accuracies"] = [m["scored_test_accuracy"] for m in member_results]
    return {**result, **_published(experiment.model.name, name)}


def _classification_summary(experiment, run_dir: Path, per_set: dict, members: int) -> dict:
    summary = {"experiment": experiment.name, "suite": "timeseries", "task": "classify",
               "model": experiment.model.name, "ensemble": members, "datasets": per_set}
    summary["wins_over_nn1"] = int(sum(v["test_accuracy"] > v["nn1_euclidean_accuracy"] for v in per_set.values()))
    summary["mean_test_accuracy"] = float(np.mean([v["test_accuracy"] for v in per_set.values()]))
    atomic_write_text(run_dir / "config.toml", config_lib.to_toml(experiment))
    return write_metrics(run_dir, summary)


def evaluate(experiment: TimeSeriesExperiment, run_dir: str | Path, which: str = "model") -> dict:
    """Test accuracy and loss of each set's network (or ensemble's averaged probabilities) from
    ``model.keras`` (``which='model'``) or ``best.keras`` (``'best'``: what training scores with
    data.scored_model=best)."""
    members = ensemble_size(experiment)
    sets = {}
    for name in _ucr_names(experiment):
        dataset = load_ucr(name, experiment.data.data_dir)
        probabilities = []
        for folder in member_dirs(run_dir, name, members):
            model = trainer_lib.load_run_model(folder, which)
            check_channels(dataset.x_test, int(model.input_shape[-1]), f"{name} test series")
            probabilities.append(_predict(model, dataset.x_test))
        sets[name] = {f"test_{k}": v for k, v in scores(average_probabilities(probabilities), dataset.y_test).items()}
    return {"datasets": sets}


def bench_inputs(experiment: TimeSeriesExperiment, n: int, rng):
    """(x, y, num_inputs, num_outputs) of random UCR-like series: length 150, one channel, two classes."""
    x = rng.normal(size=(n, 150, 1)).astype(np.float32)
    return x, rng.integers(0, 2, size=n), 1, 2
