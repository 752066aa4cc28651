"""`convsuite train image` for the multi-column net, whose ensemble is assembled after its
columns train: its metrics.json is still written once, equal to what --json prints."""

import json

from tests.common.test_cli import convsuite

TINY_MCDNN = ["--config", "mcdnn-mnist5k", "--set", "data.train_subset=300", "--set", "data.test_subset=100",
              "--set", "trainer.epochs=1", "--set", 'model.column_preprocessing=["none","contrast"]',
              "--set", "trainer.progress=false"]


def test_mcdnn_metrics_json_holds_exactly_what_train_json_printed(tmp_path):
    run_dir = tmp_path / "mcdnn"
    trained = json.loads(convsuite("train", "image", *TINY_MCDNN, "--set", f"trainer.run_dir={run_dir}",
                                   "--json").stdout.strip())
    assert json.loads((run_dir / "metrics.json").read_text()) == trained
    assert trained["columns"] == 2 and trained["model"] == "mcdnn" and trained["dataset"] == "mnist5k"
    assert len(trained["column_test_accuracy"]) == 2
    column = json.loads((run_dir / "columns" / "1-none" / "metrics.json").read_text())
    assert column["model"] == "mcdnn" and column["test_examples"] == 100
