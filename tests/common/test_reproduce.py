"""`convsuite reproduce` on a fake suite: reading finished runs, training missing ones through
the suite's trainer, the table in text and Markdown, and the paper tables of the real suites."""

import json
import types
from dataclasses import dataclass

import pytest

from convsuite.common import cli, registry, reproduce
from convsuite.common import config as config_lib
from convsuite.common.config import Experiment, TrainerConfig
from convsuite.common.errors import ConvsuiteError
from convsuite.common.reproduce import PaperResult


@dataclass
class FakeExperiment(Experiment):
    suite: str = "fake"


def tiny() -> FakeExperiment:
    return FakeExperiment(name="tiny", description="a fake experiment", trainer=TrainerConfig(epochs=30))


ROWS = [
    PaperResult(paper="Doe et al. 2001", setting="tiny net, toy accuracy", paper_value=0.95, experiment="tiny",
                metric="test_accuracy", baseline_metric="baseline_accuracy", baseline="majority class",
                quick=["trainer.epochs=2"], note="a note | with a bar"),
    PaperResult(paper="Doe et al. 2001", setting="tiny net, toy error", paper_value=None, experiment="tiny",
                metric="scores.error", higher_is_better=False, quick=["trainer.epochs=2"]),
]
METRICS = {"test_accuracy": 0.9, "baseline_accuracy": 0.5, "scores": {"error": 0.1}, "train_seconds": 12.5,
           "device": "cpu", "backend": "tensorflow"}


@pytest.fixture
def fake_suite(monkeypatch):
    """A suite "fake" with one experiment and the ROWS table; its trainer writes METRICS."""
    module = types.SimpleNamespace(EXPERIMENTS={"tiny": tiny}, DEFAULT_EXPERIMENT="tiny", PAPER_RESULTS=list(ROWS))
    calls = []

    def train(experiment, resume=True):
        calls.append(experiment)
        run_dir = experiment.trainer.run_dir
        write_run(run_dir, experiment, METRICS)
        return dict(METRICS)

    real_config_module, real_train_module = registry.config_module, registry.train_module
    monkeypatch.setitem(registry.SUITES, "fake", "a suite for tests")
    monkeypatch.setattr(registry, "config_module", lambda name: module if name == "fake" else real_config_module(name))
    monkeypatch.setattr(registry, "train_module",
                        lambda name: types.SimpleNamespace(train=train) if name == "fake" else real_train_module(name))
    monkeypatch.setattr(reproduce, "start_backend", lambda backend: None)
    return types.SimpleNamespace(module=module, calls=calls)


def write_run(run_dir, experiment, metrics):
    from pathlib import Path

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.toml").write_text(config_lib.to_toml(experiment))
    (run_dir / "metrics.json").write_text(json.dumps(metrics))


def finished_run(tmp_path, quick=False, metrics=METRICS, **changes):
    experiment = reproduce.configured_experiment("fake", ROWS[0], quick, tmp_path)
    for key, value in changes.items():
        config_lib.set_value(experiment, key, value)
    write_run(reproduce.run_directory(ROWS[0], quick, tmp_path), experiment, metrics)


def test_a_finished_run_is_read_not_retrained(fake_suite, tmp_path):
    finished_run(tmp_path)
    outcomes = reproduce.reproduce(["fake"], runs=tmp_path, log=lambda text: None)
    assert fake_suite.calls == []
    first, second = outcomes
    assert (first.status, first.ours, first.baseline_value) == ("read", 0.9, 0.5)
    assert (second.ours, second.baseline_value) == (0.1, None)  # a dotted key reads nested metrics
    assert first.seconds == 12.5 and first.device == "cpu/tensorflow" and len(first.date) == 10
    assert first.run_dir == str(tmp_path / "tiny")


def test_missing_run_with_quick_trains_once_with_the_quick_overrides(fake_suite, tmp_path):
    outcomes = reproduce.reproduce(["fake"], quick=True, runs=tmp_path, log=lambda text: None)
    assert len(fake_suite.calls) == 1  # two rows, one experiment: one run
    trained = fake_suite.calls[0]
    assert trained.trainer.epochs == 2 and trained.trainer.run_dir == str(tmp_path / "tiny-quick")
    assert [o.status for o in outcomes] == ["trained", "trained"]
    assert outcomes[0].ours == 0.9
    again = reproduce.reproduce(["fake"], quick=True, runs=tmp_path, log=lambda text: None)
    assert len(fake_suite.calls) == 1 and again[0].status == "read"


def test_no_train_shows_not_run_instead_of_training(fake_suite, tmp_path):
    outcomes = reproduce.reproduce(["fake"], runs=tmp_path, train=False, log=lambda text: None)
    assert fake_suite.calls == [] and {o.status for o in outcomes} == {"not run"}
    assert "not run" in reproduce.format_text(outcomes)


def test_a_run_of_another_config_is_an_error_row_naming_the_difference(fake_suite, tmp_path):
    finished_run(tmp_path, **{"trainer.epochs": 7})
    outcomes = reproduce.reproduce(["fake"], runs=tmp_path, log=lambda text: None)
    assert fake_suite.calls == []  # never trained over someone else's run
    assert outcomes[0].status == "error"
    assert "trainer.epochs: 7 != 30" in outcomes[0].message and "--runs" in outcomes[0].message


def test_run_directory_and_display_settings_do_not_count_as_another_config(fake_suite, tmp_path):
    finished_run(tmp_path, **{"trainer.progress": False, "trainer.keep_checkpoints": 5})
    assert reproduce.reproduce(["fake"], runs=tmp_path, log=lambda text: None)[0].status == "read"


def test_a_metric_key_missing_from_metrics_json_says_which_keys_are_there(fake_suite, tmp_path):
    finished_run(tmp_path, metrics={"test_loss": 0.3, "scores": {"loss": 1.0}})
    first, second = reproduce.reproduce(["fake"], runs=tmp_path, log=lambda text: None)
    assert first.status == "error" and first.ours is None
    assert "has no 'test_accuracy'" in first.message and "scores, test_loss" in first.message
    assert "has no 'scores.error'" in second.message and "scores has: loss" in second.message


def test_a_missing_baseline_key_keeps_our_number_and_says_so(fake_suite, tmp_path):
    finished_run(tmp_path, metrics={"test_accuracy": 0.8, "scores": {"error": 0.2}})
    first = reproduce.reproduce(["fake"], runs=tmp_path, log=lambda text: None)[0]
    assert first.status == "read" and first.ours == 0.8 and first.baseline_value is None
    assert "no baseline" in first.message and "baseline_accuracy" in first.message


def test_sub_runs_supply_seconds_and_device_a_summary_lacks(fake_suite, tmp_path):
    finished_run(tmp_path, metrics={"test_accuracy": 0.7, "scores": {"error": 0.3}})
    for name, seconds in (("a", 3.0), ("b", 4.5)):
        (tmp_path / "tiny" / name).mkdir()
        (tmp_path / "tiny" / name / "metrics.json").write_text(json.dumps({"train_seconds": seconds, "device": "gpu"}))
    first = reproduce.reproduce(["fake"], runs=tmp_path, log=lambda text: None)[0]
    assert first.seconds == 7.5 and first.device == "gpu"


def test_text_and_markdown_tables_show_paper_ours_and_baseline(fake_suite, tmp_path):
    finished_run(tmp_path)
    outcomes = reproduce.reproduce(["fake"], runs=tmp_path, log=lambda text: None)
    text = reproduce.format_text(outcomes).splitlines()
    assert text[0].split()[:3] == ["suite", "paper", "setting"]
    assert "0.95" in text[1] and "0.9 " in text[1] and "0.5 (majority class)" in text[1] and " 12 " in text[1]  # seconds rounded to whole ones
    markdown = reproduce.format_markdown(outcomes).splitlines()
    assert len(markdown) == 4 and markdown[1].startswith("| --- |")
    assert all(line.count(" | ") == len(reproduce.COLUMNS) - 1 for line in markdown)  # the note's "|" is escaped
    assert "`tiny`" in markdown[2] and "a note \\| with a bar" in markdown[2]
    assert "(lower)" in markdown[3] and "| - |" in markdown[3]  # no paper number


def test_update_results_replaces_only_its_rows_between_the_markers(fake_suite, tmp_path):
    finished_run(tmp_path)
    outcomes = reproduce.reproduce(["fake"], runs=tmp_path, log=lambda text: None)
    results = tmp_path / "RESULTS.md"
    other = "| image | LeCun et al. 1998 | LeNet-5 | `lenet5-mnist` | x | x | x | x | x | x | x | x |"
    results.write_text("# Results\n\nkept text\n\n<!-- reproduce:full:begin -->\nold header\n"
                       f"{other}\n<!-- reproduce:full:end -->\n\ntail text\n")
    reproduce.update_results(results, outcomes, quick=False)
    reproduce.update_results(results, outcomes, quick=False)  # idempotent
    text = results.read_text()
    assert text.startswith("# Results\n\nkept text\n") and text.endswith("tail text\n")
    block = text.split("<!-- reproduce:full:begin -->")[1].split("<!-- reproduce:full:end -->")[0]
    lines = block.strip().splitlines()
    assert lines[2] == other  # another suite's row stays, in suite order before "fake"
    assert len(lines) == 5 and "old header" not in block and text.count("Doe et al. 2001") == 2


def test_update_results_appends_a_marked_section_when_there_is_none(fake_suite, tmp_path):
    finished_run(tmp_path, quick=True)
    outcomes = reproduce.reproduce(["fake"], quick=True, runs=tmp_path, log=lambda text: None)
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n")
    reproduce.update_results(results, outcomes, quick=True)
    text = results.read_text()
    assert text.startswith("# Results\n") and "--quick --update-results" in text
    assert text.index("<!-- reproduce:quick:begin -->") < text.index("Doe et al. 2001") < text.index(
        "<!-- reproduce:quick:end -->")


def test_cli_prints_the_table_and_writes_markdown(fake_suite, tmp_path, capsys):
    markdown = tmp_path / "table.md"
    code = cli.run(["reproduce", "fake", "--quick", "--runs", str(tmp_path), "--markdown", str(markdown)])
    out = capsys.readouterr()
    assert code == 0 and len(fake_suite.calls) == 1
    assert "Doe et al. 2001" in out.out and "training into" in out.err
    assert markdown.read_text().startswith("| suite | paper | setting |")


def test_cli_json_prints_one_line_and_a_failed_row_exits_1(fake_suite, tmp_path, capsys):
    finished_run(tmp_path, metrics={"test_accuracy": 0.9})
    code = cli.run(["reproduce", "fake", "--runs", str(tmp_path), "--json"])
    out = capsys.readouterr()
    rows = json.loads(out.out)
    assert code == 1 and [r["status"] for r in rows] == ["read", "error"]
    assert rows[0]["paper_value"] == 0.95 and rows[0]["ours"] == 0.9 and rows[0]["experiment"] == "tiny"
    assert "1 of 2 rows could not be reproduced" in out.err


def test_only_an_experiment_without_rows_names_the_ones_with_rows(fake_suite, tmp_path):
    with pytest.raises(ConvsuiteError, match="rows use tiny"):
        reproduce.reproduce(["fake"], runs=tmp_path, only="huge", log=lambda text: None)


def test_rows_of_one_experiment_must_share_quick_overrides():
    rows = [PaperResult("P", "a", "tiny", "m", quick=["trainer.epochs=2"]),
            PaperResult("P", "b", "tiny", "m", quick=["trainer.epochs=3"])]
    with pytest.raises(ConvsuiteError, match="share one run"):
        reproduce.check_rows("fake", rows, {"tiny": tiny})
    with pytest.raises(ConvsuiteError, match="not one of tiny"):
        reproduce.check_rows("fake", [PaperResult("P", "a", "huge", "m")], {"tiny": tiny})


@pytest.mark.parametrize("suite", sorted(registry.SUITES))
def test_every_suite_paper_row_names_an_experiment_whose_quick_overrides_apply(suite, tmp_path):
    rows = reproduce.paper_rows(suite)
    assert rows
    for row in rows:
        assert row.paper and row.setting and (row.paper_value is not None or row.note), row
        for quick in (False, True):
            if quick and row.quick is None:
                continue
            experiment = reproduce.configured_experiment(suite, row, quick, tmp_path)
            assert experiment.name == row.experiment
