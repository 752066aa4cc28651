"""The classify task: batch sizes, ensembles, published numbers, config errors, and a tiny ResNet
ensemble trained end to end on a generated set against the majority class."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.common.registry import make_experiment
from convsuite.suites.timeseries import train as ts_train
from convsuite.suites.timeseries.config import EXPERIMENTS
from convsuite.suites.timeseries.tasks import classify
from convsuite.suites.timeseries.ucr import PUBLISHED_ACCURACY, UCR_BUNDLED, published_accuracy
from tests.requirements import require


def test_batch_is_a_tenth_of_the_training_series_capped_by_the_trainer_batch():
    fcn = EXPERIMENTS["classify-ucr-all"]()
    # Fawaz et al. 2019: int(min(N / 10, 16)); at least one series
    assert [classify.batch_size(fcn, n) for n in (36, 50, 67, 270, 5)] == [3, 5, 6, 16, 1]
    inception = EXPERIMENTS["classify-ucr-all-inception"]()  # batch 64, or the whole set when smaller
    assert [classify.batch_size(inception, n) for n in (36, 270)] == [36, 64]


def test_ensemble_size_members_seeds_and_run_directories():
    assert classify.ensemble_size(EXPERIMENTS["classify-ucr-all-inception"]()) == 5  # InceptionTime
    assert classify.ensemble_size(EXPERIMENTS["classify-ucr-all-resnet"]()) == 1
    exp = EXPERIMENTS["classify-ucr-all-inception"]()
    exp.model.ensemble = 1  # the cheap setting
    assert classify.ensemble_size(exp) == 1
    assert [classify.member_seed(1, i) for i in range(3)] == [1, 1001, 2001]  # seeds 0 and 1 share no member
    assert classify.member_dirs("RUN", "GunPoint", 1) == [Path("RUN/GunPoint")]
    assert classify.member_dirs("RUN", "GunPoint", 2) == [Path("RUN/GunPoint/member0"), Path("RUN/GunPoint/member1")]


def test_averaged_probabilities_are_scored_by_hand():
    first = np.array([[0.9, 0.1], [0.2, 0.8]])  # right on both
    second = np.array([[0.3, 0.7], [0.4, 0.6]])  # wrong on the first series
    mean = classify.average_probabilities([first, second])
    np.testing.assert_allclose(mean, [[0.6, 0.4], [0.3, 0.7]])
    labels = np.array([0, 1])
    assert classify.scores(second, labels)["accuracy"] == 0.5
    result = classify.scores(mean, labels)
    assert result["accuracy"] == 1.0
    assert result["loss"] == pytest.approx(-(math.log(0.6) + math.log(0.7)) / 2)
    with pytest.raises(ConvsuiteError, match="shape"):
        classify.average_probabilities([np.zeros(3), np.zeros(3)])


def test_published_table_covers_every_bundled_set_and_picks_the_mean_of_runs_as_reference():
    for model, sets in PUBLISHED_ACCURACY.items():
        assert set(sets) == set(UCR_BUNDLED), model
        for numbers in sets.values():
            assert numbers is None or all(0.0 < v <= 1.0 for v in numbers.values())
    # Wang et al. 2017 print FCN error 0.120 on ArrowHead (one run); Fawaz et al. 2019 average 10 runs: 84.3%
    assert PUBLISHED_ACCURACY["fcn"]["ArrowHead"]["Wang et al. 2017"] == pytest.approx(1 - 0.120)
    assert published_accuracy("fcn", "ArrowHead") == ("Fawaz et al. 2019", 0.843)
    assert published_accuracy("fcn", "ACSF1") is None  # a 2018 set: not in the 2017/2019 papers
    assert published_accuracy("inception", "OSULeaf") == ("Fawaz et al. 2020", 0.934)


@pytest.mark.parametrize("overrides, message", [
    (["model.name=tcn"], "fcn | resnet | inception"),
    (["model.name=resnet", "model.resnet_filters=[]"], "resnet_filters"),
    (["model.name=inception", "model.inception_depth=0"], "inception_depth"),
    (["trainer.monitor=val_accuracy"], "trainer.monitor=loss"),
    (["data.batch_fraction=0"], "batch_fraction"),
    (["model.name=fcn", "model.inception_filters=8"], "inception_filters"),
])
def test_bad_classify_settings_are_one_line_errors(overrides, message):
    with pytest.raises(ConvsuiteError, match=message):
        make_experiment("timeseries", "classify-ucr-all", overrides)


def test_classify_only_keys_are_refused_on_other_tasks():
    with pytest.raises(ConvsuiteError, match="model.ensemble"):
        make_experiment("timeseries", "forecast-co2", ["model.ensemble=3"])
    with pytest.raises(ConvsuiteError, match="data.scored_model"):
        make_experiment("timeseries", "adding", ["data.scored_model=final"])


def _write_ts(path: Path, series: list[np.ndarray], labels: list[str]) -> None:
    header = [f"@problemName {path.stem.split('_')[0]}", "@timeStamps false", "@missing false", "@univariate true",
              "@equalLength false", f"@classLabel true {' '.join(sorted(set(labels)))}", "@data"]
    rows = [",".join(f"{v:.4f}" for v in s) + f":{label}" for s, label in zip(series, labels)]
    path.write_text("\n".join(header + rows) + "\n")


def _bumps(rng, n: int) -> tuple[list[np.ndarray], list[str]]:
    """Noisy series of 20-24 steps with a bump (class a) or a dip (class b) somewhere; 60% are
    class a, so the majority class scores 0.6."""
    series, labels = [], []
    for i in range(n):
        length = int(rng.integers(20, 25))
        x = rng.normal(0, 0.3, length)
        dip = i % 5 >= 3
        start = int(rng.integers(0, length - 4))
        x[start:start + 4] += -2.0 if dip else 2.0
        series.append(x)
        labels.append("b" if dip else "a")
    return series, labels


def _generated_set(tmp_path) -> Path:
    require("aeon", "timeseries")
    rng = np.random.default_rng(0)
    folder = tmp_path / "Bumps"
    folder.mkdir()
    for split, n in (("TRAIN", 40), ("TEST", 40)):
        _write_ts(folder / f"Bumps_{split}.ts", *_bumps(rng, n))
    return tmp_path


def test_tiny_resnet_beats_the_majority_class_on_a_generated_variable_length_set(tmp_path):
    data_dir = _generated_set(tmp_path)
    run = tmp_path / "run"
    exp = make_experiment("timeseries", "classify-ucr-all-resnet", [
        "data.dataset=Bumps", f"data.data_dir={data_dir}", "model.resnet_filters=[8]", "trainer.epochs=5",
        "trainer.progress=false", f"trainer.run_dir={run}"])
    summary = ts_train.train(exp, resume=False)
    result = summary["datasets"]["Bumps"]
    assert result["chance_accuracy"] == pytest.approx(0.6)
    assert result["test_accuracy"] > result["chance_accuracy"] + 0.15, result
    assert result["scored_model"] == "best" and result["batch_size"] == 4 and summary["ensemble"] == 1
    assert result["published_accuracy"] is None
    # evaluate re-scores best.keras (its BatchNorm statistics recomputed): the number training reported
    again = ts_train.evaluate(run, which="best")["datasets"]["Bumps"]
    assert again["test_accuracy"] == pytest.approx(result["test_accuracy"])


class _FixedModel:
    """Stands in for a trained network: fixed class probabilities for the test series."""

    def __init__(self, probabilities):
        self.probabilities = probabilities

    def predict(self, x, batch_size=256, verbose=0):
        assert len(x) == len(self.probabilities)
        return self.probabilities


def test_ensemble_members_get_their_own_seeds_and_folders_and_their_probabilities_are_averaged(tmp_path,
                                                                                               monkeypatch):
    data_dir = _generated_set(tmp_path)
    from convsuite.suites.timeseries.ucr import load_ucr

    labels = load_ucr("Bumps", str(data_dir)).y_test
    half = np.arange(len(labels)) < len(labels) // 2
    calls = []

    def member_probabilities(member):
        # each member is sure (0.9) of the right class on its half of the series and wrong (0.4) on the
        # other half: 0.5 accuracy alone, while the average (0.65 right) gets every series
        right = np.where(half if member == 0 else ~half, 0.9, 0.4)
        probabilities = np.empty((len(labels), 2))
        probabilities[np.arange(len(labels)), labels] = right
        probabilities[np.arange(len(labels)), 1 - labels] = 1 - right
        return probabilities

    def fake_train(sub, build, data, resume=True, report=None):
        calls.append((sub.trainer.seed, Path(sub.trainer.run_dir).relative_to(tmp_path).as_posix()))
        return {"epochs": sub.trainer.epochs, **report(_FixedModel(member_probabilities(len(calls) - 1)))}

    monkeypatch.setattr(classify.trainer_lib, "train", fake_train)
    monkeypatch.setattr(classify, "_scored_model", lambda model, folder, which: (model, which))
    exp = make_experiment("timeseries", "classify-ucr-all-inception", [
        "data.dataset=Bumps", f"data.data_dir={data_dir}", "model.ensemble=2", "trainer.seed=7",
        f"trainer.run_dir={tmp_path / 'run'}"])
    summary = classify.train(exp)
    assert calls == [(7, "run/Bumps/member0"), (1007, "run/Bumps/member1")]
    result = summary["datasets"]["Bumps"]
    assert result["member_test_accuracies"] == [0.5, 0.5]
    assert result["test_accuracy"] == 1.0 and summary["wins_over_nn1"] == int(result["nn1_euclidean_accuracy"] < 1)
    assert (tmp_path / "run" / "metrics.json").exists() and (tmp_path / "run" / "config.toml").exists()


def _load_script():
    path = Path(__file__).resolve().parents[3] / "scripts" / "ucr_table.py"
    spec = importlib.util.spec_from_file_location("ucr_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ucr_table_judges_both_bars_from_the_mean_over_seeds():
    table = _load_script()
    runs = {"fcn/ArrowHead/0": {"accuracy": 0.83, "nn1": 0.80}, "fcn/ArrowHead/1": {"accuracy": 0.81, "nn1": 0.80},
            "fcn/ACSF1/0": {"accuracy": 0.50, "nn1": 0.55}, "resnet/ArrowHead/0": {"accuracy": 0.70, "nn1": 0.80}}
    rows = {(r["dataset"], r["model"]): r for r in table.table_rows({"runs": runs}, ["fcn", "resnet"],
                                                                     ["ArrowHead", "ACSF1"])}
    arrow = rows["ArrowHead", "fcn"]  # mean 0.82 against Fawaz et al. 2019's 0.843: within 3 points, >= 1-NN
    assert (arrow["mean"], arrow["seeds"]) == (pytest.approx(0.82), 2)
    assert arrow["std"] == pytest.approx(math.sqrt(2 * 0.01 ** 2))
    assert arrow["within_published"] is True and arrow["at_least_nn1"] is True
    assert rows["ArrowHead", "resnet"]["within_published"] is False  # 0.70 < 0.845 - 0.03
    assert rows["ACSF1", "fcn"]["within_published"] is None and rows["ACSF1", "fcn"]["at_least_nn1"] is False
    text = table.markdown(list(rows.values()))
    assert "| ArrowHead | FCN | 0.820 +- 0.014 (2) | 0.800 |" in text and "**no**" in text
