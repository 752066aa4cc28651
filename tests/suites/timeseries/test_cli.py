"""`convsuite train|evaluate|bench timeseries` end to end, and bad input as one-line errors."""

import json

import pytest

from tests.common.test_cli import convsuite

TINY_COPY = ["--config", "copy", "--set", "data.sequence_length=10", "--set", "data.train_samples=600",
             "--set", "data.test_samples=200", "--set", "trainer.epochs=2", "--set", "trainer.progress=false"]


@pytest.fixture(scope="module")
def copy_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("tscli") / "copy"
    trained = json.loads(convsuite("train", "timeseries", *TINY_COPY, "--set", f"trainer.run_dir={run_dir}",
                                   "--json").stdout.strip())
    return run_dir, trained


def test_metrics_json_holds_exactly_what_train_json_printed(copy_run):
    run_dir, trained = copy_run
    assert json.loads((run_dir / "metrics.json").read_text()) == trained
    assert (trained["task"], trained["model"], trained["dataset"]) == ("copy", "tcn", "copy")


def test_train_then_evaluate_copy_memory_through_the_cli(copy_run):
    run_dir, trained = copy_run
    assert trained["task"] == "copy" and trained["epochs"] == 2
    assert trained["memoryless_loss"] == pytest.approx(10 * 2.0794415 / 30, rel=1e-6)
    evaluated = json.loads(convsuite("evaluate", "timeseries", "--checkpoint", str(run_dir), "--json").stdout.strip())
    assert evaluated["test_loss"] == pytest.approx(trained["test_loss"], rel=1e-5)
    assert evaluated["recall_accuracy"] == pytest.approx(trained["recall_accuracy"])


def test_list_shows_the_time_series_experiments():
    text = convsuite("list").stdout
    for name in ("forecast-elecdemand", "classify-ucr", "anomaly-sr", "adding", "copy"):
        assert name in text


def test_bench_timeseries_reports_samples_per_second():
    result = json.loads(convsuite("bench", "timeseries", "--config", "adding", "--set", "trainer.batch_size=16",
                                  "--json").stdout.strip())
    assert result["train_samples_per_s"] > 0 and result["inference_samples_per_s"] > 0
    assert result["input_shape"] == [100, 2]


@pytest.mark.parametrize("args, message", [
    (["--set", "data.task=segment"], "data.task must be one of"),
    (["--set", "data.dataset=nosuch"], "unknown series 'nosuch'"),
    (["--config", "classify-ucr", "--set", "data.dataset=NoSuchSet"], "NoSuchSet"),
    (["--set", "data.input_length=64"], "receptive field"),
    (["--set", "data.fill=guess"], "data.fill must be one of"),
    (["--set", "data.target=Price"], "no column 'Price'"),
    (["--set", 'data.known_future=["Demand"]'], "cannot see the future target"),
])
def test_bad_settings_are_one_line_errors(args, message):
    result = convsuite("train", "timeseries", *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_csv_with_gaps_is_refused_then_filled(tmp_path):
    rows = ["timestamp,load,temp"] + [f"2024-01-01 {h:02d}:00,{10 + h % 24},{h}" for h in range(24) if h != 5]
    rows += [f"2024-01-02 {h:02d}:00,{10 + h},{h}" for h in range(24)]
    path = tmp_path / "load.csv"
    path.write_text("\n".join(rows) + "\n")
    common = ["--set", f"data.dataset={path}", "--set", "data.target=load", "--set", "data.covariates=[]",
              "--set", "data.calendar_features=false"]
    result = convsuite("train", "timeseries", *common, check=False)
    assert result.returncode == 2 and "missing" in result.stderr.lower() and "Traceback" not in result.stderr
