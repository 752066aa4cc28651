"""Experiment configs: TOML round trip, typed --set overrides, checks of choices, ranges, owners and
the monitor, clear one-line errors for bad keys and files."""

import pytest

from convsuite.common.config import (TrainerConfig, apply_overrides, describe, experiment_from_toml, iter_fields,
                                     load_toml, monitor_direction, read_toml, setting, to_toml)
from convsuite.common.errors import ConvsuiteError
from convsuite.common.registry import explicit_keys, make_experiment
from convsuite.suites.image.config import EXPERIMENTS, ImageExperiment, lenet5_fashion


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


def test_a_list_default_is_a_fresh_copy_per_instance():
    first, second = ImageExperiment(), ImageExperiment()
    first.model.column_preprocessing.append("histeq")
    assert second.model.column_preprocessing == ["none", "contrast", "histeq"]


def test_a_setting_without_help_is_a_programming_error():
    with pytest.raises(ValueError, match="help"):
        setting(1, "")


@pytest.mark.parametrize("monitor, direction", [
    ("val_accuracy", "max"), ("accuracy", "max"), ("val_top5", "max"), ("test_top_5", "max"), ("val_auc", "max"),
    ("val_f1", "max"), ("episode_return", "max"), ("val_sign_accuracy", "max"), ("val_policy_accuracy", "max"),
    ("loss", "min"), ("val_loss", "min"), ("val_mase", "min"), ("test_smape", "min"), ("val_crps", "min"),
    ("val_value_loss", "min"),
])
def test_auto_monitor_direction_comes_from_the_metric_name(monitor, direction):
    assert monitor_direction(TrainerConfig(monitor=monitor)) == direction


def test_an_explicit_monitor_mode_accepts_any_metric_name():
    assert monitor_direction(TrainerConfig(monitor="val_my_score", monitor_mode="max")) == "max"
    assert monitor_direction(TrainerConfig(monitor="val_accuracy", monitor_mode="min")) == "min"


def test_an_unknown_monitor_suggests_the_closest_names():
    with pytest.raises(ConvsuiteError, match=r"'val_acc' .*\(did you mean val_accuracy, .*monitor_mode=max or min"):
        monitor_direction(TrainerConfig(monitor="val_acc"))
    with pytest.raises(ConvsuiteError, match="trainer.monitor_mode must be one of"):
        apply_overrides(lenet5_fashion(), ["trainer.monitor_mode=up"])


def test_a_stray_key_names_itself_its_architecture_and_the_chosen_one():
    exp = apply_overrides(lenet5_fashion(), ["model.resnet_depth=32"])
    with pytest.raises(ConvsuiteError, match=r"^model.resnet_depth=32 is used only by model.name=resnet, but this "
                                             r"experiment has model.name=lenet5; leave .* default 20"):
        exp.validate()
    assert apply_overrides(exp, ["model.name=resnet"]).validate() is exp


def test_an_optimizer_setting_needs_its_optimizer():
    with pytest.raises(ConvsuiteError, match="trainer.weight_decay=0.1 is used only by trainer.optimizer=adamw"):
        make_experiment("image", None, ["trainer.weight_decay=0.1"])
    exp = make_experiment("image", None, ["trainer.weight_decay=0.1", "trainer.optimizer=adamw"])
    assert exp.trainer.weight_decay == 0.1


def test_ranges_are_checked_as_values_are_set_and_again_by_validate():
    with pytest.raises(ConvsuiteError, match=r"^data.validation_fraction must be in \[0, 1\), got 1.5$"):
        apply_overrides(lenet5_fashion(), ["data.validation_fraction=1.5"])
    with pytest.raises(ConvsuiteError, match=r"^model.column_preprocessing items must be one of none, contrast"):
        apply_overrides(lenet5_fashion(), ["model.column_preprocessing=['none', 'blur']"])
    exp = lenet5_fashion()
    exp.trainer.learning_rate = 0.0  # set directly, as a preset in Python could
    with pytest.raises(ConvsuiteError, match=r"^trainer.learning_rate must be > 0, got 0.0$"):
        exp.validate()


def test_malformed_or_binary_toml_is_one_line_naming_the_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[trainer\nepochs = 3\n")
    with pytest.raises(ConvsuiteError, match=r"'.*broken.toml' is not valid TOML \(.*line 1.*\)") as error:
        make_experiment("image", str(broken))
    assert "\n" not in str(error.value)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    with pytest.raises(ConvsuiteError, match="is not a text file"):
        read_toml(binary)
    with pytest.raises(ConvsuiteError, match="does not exist"):
        read_toml(tmp_path / "missing.toml")


def test_a_toml_file_that_breaks_a_rule_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "stray.toml"
    path.write_text('name = "lenet5-fashion"\n[model]\nresnet_width = 8\n')
    with pytest.raises(ConvsuiteError, match=r"stray.toml': model.resnet_width=8 is used only by model.name=resnet"):
        load_toml(path, lenet5_fashion())
    path.write_text('suite = "go"\n')
    with pytest.raises(ConvsuiteError, match="suite='go' but this is a image experiment"):
        make_experiment("image", str(path))


def test_experiment_from_toml_starts_from_the_experiment_it_names(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('name = "mcdnn-fashion"\n[trainer]\nepochs = 2\n')
    exp = experiment_from_toml(path, EXPERIMENTS, ImageExperiment)
    assert exp.model.name == "mcdnn" and exp.model.column_architecture == "wide" and exp.trainer.epochs == 2
    path.write_text('name = ["not", "a", "name"]\n')
    with pytest.raises(ConvsuiteError, match="name must be a string"):
        experiment_from_toml(path, EXPERIMENTS, ImageExperiment)


def test_explicit_keys_are_those_of_the_file_and_the_overrides(tmp_path):
    path = tmp_path / "jax.toml"
    path.write_text('name = "lenet5-fashion"\n[runtime]\nbackend = "jax"\n')
    assert explicit_keys(str(path), ["trainer.epochs=2"]) == {"name", "runtime.backend", "trainer.epochs"}
    assert explicit_keys("lenet5-fashion", []) == set()


def test_describe_gives_type_value_default_help_and_owner_of_every_key():
    rows = {row["key"]: row for row in describe(make_experiment("image", "mcdnn-fashion"))}
    assert len(rows) == len(list(iter_fields(lenet5_fashion())))
    dropout = rows["model.column_dropout"]
    assert (dropout["type"], dropout["value"], dropout["default"]) == ("float", "0.4", "0.0")
    assert dropout["used_by"] == "model.name=mcdnn" and dropout["in_use"] and dropout["range"] == "in [0, 1)"
    assert rows["model.c3_table"]["used_by"] == "model.name=lenet5" and not rows["model.c3_table"]["in_use"]
    assert rows["runtime.backend"]["choices"] == ["tensorflow", "jax"]
    assert all(row["help"] for row in rows.values())
