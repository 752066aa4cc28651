"""Experiment configs: TOML round trip, typed --set overrides, clear errors for bad keys."""

import pytest

from convsuite.common.config import apply_overrides, load_toml, to_toml
from convsuite.common.errors import ConvsuiteError
from convsuite.common.registry import make_experiment
from convsuite.suites.image.config import ImageExperiment, lenet5_fashion


def test_overrides_convert_strings_to_the_field_types():
    exp = apply_overrides(lenet5_fashion(), ["trainer.epochs=3", "trainer.learning_rate=0.01",
                                            "trainer.progress=false", "model.column_preprocessing=['none', 'histeq']"])
    assert exp.trainer.epochs == 3 and isinstance(exp.trainer.epochs, int)
    assert exp.trainer.learning_rate == 0.01
    assert exp.trainer.progress is False
    assert exp.model.column_preprocessing == ["none", "histeq"]


def test_unknown_key_names_the_bad_key_and_the_known_ones():
    with pytest.raises(ConvsuiteError, match=r"unknown config key 'trainer.epoch'.*known: .*epochs"):
        apply_overrides(lenet5_fashion(), ["trainer.epoch=3"])
    with pytest.raises(ConvsuiteError, match="unknown config key 'trainr.epochs'"):
        apply_overrides(lenet5_fashion(), ["trainr.epochs=3"])


def test_wrong_type_and_wrong_choice_are_rejected():
    with pytest.raises(ConvsuiteError, match="trainer.epochs must be an integer, got 'three'"):
        apply_overrides(lenet5_fashion(), ["trainer.epochs=three"])
    with pytest.raises(ConvsuiteError, match="runtime.precision must be one of"):
        apply_overrides(lenet5_fashion(), ["runtime.precision=float8"])
    with pytest.raises(ConvsuiteError, match="expects key=value"):
        apply_overrides(lenet5_fashion(), ["trainer.epochs"])
    with pytest.raises(ConvsuiteError, match="is a section"):
        apply_overrides(lenet5_fashion(), ["trainer=3"])


def test_toml_round_trip_gives_an_equal_experiment(tmp_path):
    exp = apply_overrides(lenet5_fashion(), ["trainer.epochs=7", "data.train_subset=100"])
    path = tmp_path / "exp.toml"
    path.write_text(to_toml(exp))
    assert load_toml(path, ImageExperiment()) == exp


def test_toml_file_with_unknown_key_fails_naming_it(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "lenet5-fashion"\n[trainer]\nepochz = 2\n')
    with pytest.raises(ConvsuiteError, match="'trainer.epochz'"):
        make_experiment("image", str(path))


def test_config_file_starts_from_the_experiment_it_names(tmp_path):
    path = tmp_path / "mc.toml"
    path.write_text('name = "mcdnn-fashion"\n[trainer]\nepochs = 2\n')
    exp = make_experiment("image", str(path), ["trainer.batch_size=32"])
    assert exp.model.name == "mcdnn" and exp.trainer.epochs == 2 and exp.trainer.batch_size == 32


def test_unknown_suite_and_experiment_are_clear_errors():
    with pytest.raises(ConvsuiteError, match="unknown suite 'imgae'"):
        make_experiment("imgae")
    with pytest.raises(ConvsuiteError, match="neither a image experiment"):
        make_experiment("image", "lenet7")
