"""The text suite's experiments: one per setting of Kim's (2014) Table 2, the static variants'
need for pre-trained vectors, the fold settings, and the paper numbers `reproduce` compares with.
(That every experiment validates and round-trips through TOML is checked for every suite in
tests/test_contract_config.py.)"""

import pytest

from convsuite.common import registry
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text import train as text_train
from convsuite.suites.text.config import DEFAULT_EXPERIMENT, EXPERIMENTS, PAPER_RESULTS, VARIANTS
from convsuite.suites.text.embeddings import embedding_help

TINY = ["model.feature_maps=8", "trainer.epochs=1", "trainer.progress=false"]
DATASETS = {"mr": "mr-4000", "sst1": "sst1", "sst2": "sst2", "subj": "subj", "trec": "trec", "cr": "cr", "mpqa": "mpqa"}


def test_every_experiment_is_the_variant_and_dataset_its_name_says_on_kims_settings():
    expected = {f"kim-{variant}-{short}": (variant, dataset) for variant in VARIANTS
                for short, dataset in DATASETS.items()}
    expected["kim-rand-negation"] = ("rand", "negation")
    assert set(EXPERIMENTS) == set(expected) and DEFAULT_EXPERIMENT == "kim-rand-mr"
    for name, (variant, dataset) in expected.items():
        experiment = registry.make_experiment("text", name, TINY)
        assert (experiment.name, experiment.model.variant, experiment.data.dataset) == (name, variant, dataset)
        assert experiment.data.lowercase == (dataset != "trec")  # Kim kept TREC's case
        model, trainer = EXPERIMENTS[name]().model, EXPERIMENTS[name]().trainer
        assert (model.windows, model.feature_maps, model.dropout, model.max_norm) == ([3, 4, 5], 100, 0.5, 3.0)
        assert (trainer.optimizer, trainer.batch_size, trainer.monitor) == ("adadelta", 50, "val_accuracy")


@pytest.mark.parametrize("variant", ["static", "non-static", "multichannel"])
def test_a_pretrained_variant_without_embeddings_is_refused_with_one_sentence_before_training(variant, tmp_path):
    run_dir = tmp_path / "run"
    experiment = registry.make_experiment("text", f"kim-{variant}-mr",
                                          [*TINY, "data.dataset=negation", "data.embeddings=", f"trainer.run_dir={run_dir}"])
    with pytest.raises(ConvsuiteError) as error:
        text_train.train(experiment)
    assert str(error.value) == embedding_help(variant)
    assert str(error.value).count(". ") == 0 and "data.embeddings=" in str(error.value)
    left = {path.name for path in run_dir.iterdir()} if run_dir.exists() else set()
    assert left <= {".lock"}  # no config, checkpoint or model: nothing started


def test_more_folds_to_run_than_folds_is_refused_naming_both():
    with pytest.raises(ConvsuiteError, match=r"data.folds_to_run=4 is more than data.folds=3"):
        registry.make_experiment("text", "kim-rand-mr", ["data.folds=3", "data.folds_to_run=4"])
    experiment = registry.make_experiment("text", "kim-rand-mr", ["data.folds=3", "data.folds_to_run=3"])
    assert experiment.data.folds_to_run == 3


def test_the_mr_paper_rows_carry_kims_table_2_numbers():
    mr_rows = {row.experiment: row for row in PAPER_RESULTS if row.experiment.endswith("-mr")}
    assert set(mr_rows) == {f"kim-{variant}-mr" for variant in VARIANTS}
    assert mr_rows["kim-rand-mr"].paper_value == pytest.approx(0.761)
    assert mr_rows["kim-non-static-mr"].paper_value == pytest.approx(0.815)
    assert mr_rows["kim-static-mr"].paper_value == pytest.approx(0.810)
    assert mr_rows["kim-multichannel-mr"].paper_value == pytest.approx(0.811)
    for row in mr_rows.values():
        assert row.paper == "Kim 2014" and row.metric == "best_test_accuracy"  # the best-dev-epoch model, as Kim
        assert row.baseline_metric == "baseline_bag_of_words_logistic_regression_accuracy"
