"""Global forecasting: one TCN forecaster trained across every series of a collection, which also
forecasts series it never saw.

Each window is scaled by the mean and standard deviation of its own input part, so the network
sees every series on one scale and a new series needs no statistics from training (the
per-window scaling of global models such as DeepAR, Salinas et al. 2020). Static covariates
enter as constant input channels and the grid's calendar (month of year, quarter, ...) as
sine/cosine channels, next to the scaled target, through the conditional TCN of
``models.tcn_forecaster`` (Bai et al. 2018; Borovykh et al. 2017) with a non-crossing quantile
head trained by the pinball loss and, optionally, a linear autoregressive highway (LSTNet,
Lai et al. 2018) started at the pooled least-squares fit of all training windows.

Training windows are (series, origin) pairs drawn once with the seed and decoded per batch; the
windows themselves are never all held in memory. ``GlobalTCNForecaster`` implements the
backtest's Forecaster protocol (``fit(history)``, ``predict(history, horizon, quantiles)``); the
``train`` / ``evaluate`` / ``bench_inputs`` trio serves ``data.task = global`` on the CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from convsuite.common.arrays import BatchDecoder, SupervisedData
from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.collection import (
    Collection,
    Lengths,
    calendar_features,
    calendar_names,
    default_lengths,
    grid_kind,
    load_collection,
)

# Floor of a window's scale, relative to its mean absolute level: a flat window is not blown up.
RELATIVE_SCALE_FLOOR = 1e-3


def window_scale(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(location, scale) of each window's input part (N, L): its mean and standard deviation,
    the scale floored at RELATIVE_SCALE_FLOOR of the mean absolute level (and 1e-8)."""
    location = inputs.mean(axis=1)
    floor = np.maximum(RELATIVE_SCALE_FLOOR * np.abs(inputs).mean(axis=1), 1e-8)
    return location, np.maximum(inputs.std(axis=1), floor)


def min_history(input_length: int, period: int, horizon: int) -> int:
    """Shortest history a forecast starts from: the backtest's rule (two seasons and a step, two
    horizons, 10 steps), at most the input length. Shorter inputs are padded with their first value."""
    return int(min(input_length, max(2 * period + 1, 2 * horizon, 10)))


class WindowSource:
    """Windows of a collection by (series, origin): input steps [origin - L, origin) with the
    calendar and static channels, targets [origin, origin + H), both scaled per window. An
    origin closer than L to the series' start repeats the first step (value and calendar)."""

    def __init__(self, collection: Collection, input_length: int, calendar: bool, static: np.ndarray | bool):
        self.collection, self.input_length = collection, int(input_length)
        lengths = collection.lengths
        self.offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.lengths = lengths
        self.flat = np.concatenate(collection.values).astype(np.float64) if len(collection) else np.zeros(0)
        if calendar:
            parts = [calendar_features(None if collection.timestamps is None else collection.timestamps[i],
                                       collection.frequency, collection.period, int(lengths[i]))
                     for i in range(len(collection))]
            self.calendar = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
        else:
            self.calendar = np.zeros((len(self.flat), 0), np.float32)
        if isinstance(static, bool):  # True: the collection's own static columns
            static = collection.static if static else np.zeros((len(collection), 0), np.float32)
        self.static = np.asarray(static, np.float32)
        self.channels = 1 + self.calendar.shape[1] + self.static.shape[1]

    def _steps(self, series: np.ndarray, origins: np.ndarray, first: int, count: int) -> np.ndarray:
        relative = np.maximum(origins[:, None] + np.arange(first, first + count)[None, :], 0)  # edge padding
        return self.offsets[series][:, None] + relative

    def inputs(self, series, origins) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x (B, L, C) float32, location (B,), scale (B,)) of the windows ending before each origin."""
        series, origins = np.asarray(series, np.int64), np.asarray(origins, np.int64)
        steps = self._steps(series, origins, -self.input_length, self.input_length)
        raw = self.flat[steps]
        location, scale = window_scale(raw)
        target = ((raw - location[:, None]) / scale[:, None]).astype(np.float32)[..., None]
        static = np.broadcast_to(self.static[series][:, None, :], (len(series), self.input_length,
                                                                    self.static.shape[1]))
        x = np.concatenate([target, self.calendar[steps], static], axis=-1)
        return x, location, scale

    def targets(self, series, origins, horizon: int) -> np.ndarray:
        """Scaled targets (B, 1, H) float32: each window's next ``horizon`` steps in its own scale."""
        series, origins = np.asarray(series, np.int64), np.asarray(origins, np.int64)
        location, scale = window_scale(self.flat[self._steps(series, origins, -self.input_length, self.input_length)])
        future = self.flat[self._steps(series, origins, 0, horizon)]
        return ((future - location[:, None]) / scale[:, None]).astype(np.float32)[:, None, :]

    def origins(self, horizon: int, ends: np.ndarray | None = None, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Every (series, origin) with origin in [first, end - horizon], ``end`` the series' length
        (or ``ends``); ``first`` defaults to the input length (no padding)."""
        ends = self.lengths if ends is None else np.asarray(ends, np.int64)
        first = int(first) or self.input_length
        counts = np.maximum(ends - horizon - first + 1, 0)
        series = np.repeat(np.arange(len(ends)), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        origins = first + np.arange(int(counts.sum())) - starts
        return series.astype(np.int64), origins.astype(np.int64)


class WindowDecoder(BatchDecoder):
    """Stored (series, origin) pairs (B, 2) int64 -> input windows (B, L, C) float32, per batch;
    its ``targets`` decoder turns the same pairs into scaled targets (B, 1, H)."""

    def __init__(self, source: WindowSource, horizon: int = 0):
        self.source = source
        self.shape = (source.input_length, source.channels)
        self.dtype = "float32"
        self.targets = TargetDecoder(source, horizon) if horizon else None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, np.int64).reshape(-1, 2)
        return self.source.inputs(batch[:, 0], batch[:, 1])[0]


class TargetDecoder(BatchDecoder):
    """Stored (series, origin) pairs (B, 2) -> the next ``horizon`` steps (B, 1, H) in each window's scale."""

    def __init__(self, source: WindowSource, horizon: int):
        self.source, self.horizon = source, int(horizon)
        self.shape = (1, self.horizon)
        self.dtype = "float32"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, np.int64).reshape(-1, 2)
        return self.source.targets(batch[:, 0], batch[:, 1], self.horizon)


def _pairs(series: np.ndarray, origins: np.ndarray) -> np.ndarray:
    return np.stack([series, origins], axis=1).astype(np.int64)


def pick_quantiles(forecast: np.ndarray, trained: Sequence[float], wanted: Sequence[float]) -> np.ndarray:
    """Quantiles ``wanted`` of forecasts (..., len(trained)) by linear interpolation in the
    quantile level between the trained ones; levels outside the trained range are refused."""
    trained, wanted = np.asarray(trained, float), np.asarray(wanted, float)
    if wanted.size == 0:
        raise ConvsuiteError("predict needs at least one quantile, e.g. [0.1, 0.5, 0.9]")
    outside = wanted[(wanted < trained[0] - 1e-9) | (wanted > trained[-1] + 1e-9)]
    if outside.size:
        raise ConvsuiteError(f"quantile {outside[0]} lies outside the trained quantiles {trained.tolist()}; train "
                             "with model.quantiles covering it")
    position = np.interp(wanted, trained, np.arange(len(trained)))
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(trained) - 1)
    weight = position - low
    return forecast[..., low] * (1 - weight) + forecast[..., high] * weight


class GlobalTCNForecaster:
    """One TCN trained across all series of a collection (the backtest's Forecaster protocol).

    Lengths left at 0 / None are chosen by ``collection.default_lengths`` from the collection's
    frequency and its shortest series when ``fit`` first sees it. ``highway`` > 0 adds a linear
    autoregression on min(highway, input_length) lags; -1 on the whole input."""

    name = "tcn_global"

    def __init__(self, horizon: int = 0, quantiles: Sequence[float] = (0.1, 0.5, 0.9), input_length: int = 0,
                 dilations: Sequence[int] | None = None, kernel_size: int = 3, filters: int = 32, stacks: int = 1,
                 dropout: float = 0.0, normalization: str = "weight", skip_connections: bool = True,
                 highway: int = -1, calendar: bool = True, static: bool = True, epochs: int = 10,
                 batch_size: int = 256, learning_rate: float = 1e-3, lr_decay_per_epoch: float = 1.0,
                 max_windows: int = 100_000, seed: int = 0, verbose: int = 0):
        quantiles = [float(q) for q in quantiles]
        if quantiles != sorted(set(quantiles)) or 0.5 not in quantiles:
            raise ConvsuiteError(f"quantiles={quantiles} must be strictly increasing and include 0.5, "
                                 "e.g. [0.1, 0.5, 0.9]")
        self.horizon, self.quantiles, self.input_length = int(horizon), quantiles, int(input_length)
        self.dilations = [int(d) for d in dilations] if dilations else None
        self.kernel_size, self.filters, self.stacks = int(kernel_size), int(filters), int(stacks)
        self.dropout, self.normalization, self.skip_connections = float(dropout), normalization, bool(skip_connections)
        self.highway, self.calendar, self.static = int(highway), bool(calendar), bool(static)
        self.epochs, self.batch_size, self.learning_rate = int(epochs), int(batch_size), float(learning_rate)
        self.lr_decay_per_epoch, self.max_windows, self.seed = float(lr_decay_per_epoch), int(max_windows), int(seed)
        self.verbose = int(verbose)
        self.model = None
        self.layout: dict | None = None  # what the trained model expects of a history

    # ------------------------------------------------------------------ configuration

    @classmethod
    def from_experiment(cls, experiment, verbose: int = 0) -> "GlobalTCNForecaster":
        """The forecaster an experiment of data.task=global describes (lengths left at 0 / [] resolve in fit)."""
        m, d, t = experiment.model, experiment.data, experiment.trainer
        return cls(horizon=d.horizon, quantiles=m.quantiles, input_length=d.input_length,
                   dilations=m.dilations or None, kernel_size=m.kernel_size,
                   filters=m.filters, stacks=m.stacks, dropout=m.dropout, normalization=m.normalization,
                   skip_connections=m.skip_connections, highway=m.highway, calendar=d.calendar_features,
                   static=True, epochs=t.epochs, batch_size=t.batch_size, learning_rate=t.learning_rate,
                   lr_decay_per_epoch=t.lr_decay_per_epoch, max_windows=d.max_windows, seed=t.seed, verbose=verbose)

    def lengths(self, history: Collection) -> Lengths:
        """Input length, dilations and horizon for ``history``: the given ones, the rest by default."""
        if self.layout is not None:
            return Lengths(self.layout["input_length"], self.layout["dilations"], self.layout["horizon"])
        chosen = default_lengths(history.frequency, int(history.lengths.min()), self.kernel_size, history.period,
                                 self.horizon)
        input_length = self.input_length or chosen.input_length
        dilations = self.dilations or chosen.dilations
        field = 1 + 2 * (self.kernel_size - 1) * sum(dilations) * self.stacks
        if input_length < field and self.dilations:
            raise ConvsuiteError(f"data.input_length={input_length} is shorter than the receptive field of "
                                 f"model.dilations={dilations} ({field} steps); raise it, or set it to 0 (from the "
                                 "frequency)")
        while field > input_length and len(dilations) > 1:  # an explicit input length: fit the stack into it
            dilations = dilations[:-1]
            field = 1 + 2 * (self.kernel_size - 1) * sum(dilations) * self.stacks
        return Lengths(int(input_length), list(dilations), chosen.horizon)

    def _layout(self, history: Collection) -> dict:
        lengths = self.lengths(history)
        lags = lengths.input_length if self.highway < 0 else min(self.highway, lengths.input_length)
        return {"input_length": lengths.input_length, "dilations": lengths.dilations, "horizon": lengths.horizon,
                "min_history": min_history(lengths.input_length, history.period, lengths.horizon),
                "quantiles": self.quantiles, "highway": int(lags), "frequency": history.frequency,
                "period": int(history.period),
                "calendar": calendar_names(history.frequency, history.period) if self.calendar else [],
                "static_names": list(history.static_names) if self.static else []}

    def check_history(self, history: Collection) -> None:
        """Refuse a history the trained model cannot read: another grid, other static columns, too short."""
        layout = self.layout
        if layout is None:
            raise ConvsuiteError("this GlobalTCNForecaster is not trained yet; call fit(history) before predict")
        if grid_kind(history.frequency) != grid_kind(layout["frequency"]) or history.period != layout["period"]:
            raise ConvsuiteError(f"the model was trained on a {layout['frequency'] or 'plain index'} grid, this "
                                 f"history is on {history.frequency or 'a plain index'}; forecast series of the "
                                 "same grid")
        self.aligned_static(history)
        history.require_length(layout["min_history"], "the model")

    def aligned_static(self, collection: Collection) -> np.ndarray:
        """The collection's static columns in the trained order. A one-hot level the collection
        lacks is 0; a level training never saw is dropped (the series reads as of no known level).
        Numeric columns are standardised within each collection, so read new series together with
        the training ones (one file, then ``subset``) when they carry numeric static columns."""
        trained = self.layout["static_names"] if self.static else []
        columns = {name: i for i, name in enumerate(collection.static_names)}
        prefixes = {name.split("=", 1)[0] for name in collection.static_names if "=" in name}
        aligned = np.zeros((len(collection), len(trained)), np.float32)
        for j, name in enumerate(trained):
            if name in columns:
                aligned[:, j] = collection.static[:, columns[name]]
            elif "=" not in name or name.split("=", 1)[0] not in prefixes:
                raise ConvsuiteError(f"the model was trained with the static column {name!r}, which this collection "
                                     f"lacks (it has {collection.static_names or 'none'}); give it the same static "
                                     "columns")
        return aligned

    # ------------------------------------------------------------------ model and data

    def source(self, collection: Collection) -> WindowSource:
        return WindowSource(collection, self.layout["input_length"], self.calendar, self.aligned_static(collection))

    def build_model(self, channels: int):
        """The training model: ``tcn_forecaster`` read at the window's last step, (B, 1, H, Q)."""
        import keras

        from convsuite.suites.timeseries.models import tcn_forecaster

        layout = self.layout
        length, horizon, q = layout["input_length"], layout["horizon"], len(layout["quantiles"])
        base = tcn_forecaster(channels, horizon=horizon, quantiles=layout["quantiles"], filters=self.filters,
                              kernel_size=self.kernel_size, dilations=layout["dilations"], stacks=self.stacks,
                              dropout=self.dropout, normalization=self.normalization,
                              skip_connections=self.skip_connections, highway=layout["highway"],
                              input_length=length, seed=self.seed, name="tcn_global")
        x = keras.layers.Reshape((length, horizon * q), name="steps")(base.output)
        x = keras.layers.Cropping1D((length - 1, 0), name="last_step")(x)
        outputs = keras.layers.Reshape((1, horizon, q), name="forecast_at_origin")(x)
        return keras.Model(base.input, outputs, name="tcn_global")

    def loss_and_metrics(self):
        from convsuite.suites.timeseries.models import MedianAbsoluteError, PinballLoss

        return PinballLoss(self.layout["quantiles"]), [MedianAbsoluteError(self.layout["quantiles"])]

    def training_pairs(self, source: WindowSource, ends: np.ndarray | None = None) -> np.ndarray:
        """(series, origin) pairs of the training windows, at most ``max_windows`` drawn with the seed."""
        series, origins = source.origins(self.layout["horizon"], ends, self.layout["min_history"])
        if series.size == 0:
            raise ConvsuiteError(f"no series is long enough for one training window of {self.layout['min_history']} "
                                 f"history + {self.layout['horizon']} horizon steps; shorten the lengths")
        if series.size > self.max_windows:
            keep = np.sort(np.random.default_rng([self.seed, 104729]).choice(series.size, self.max_windows,
                                                                              replace=False))
            series, origins = series[keep], origins[keep]
        return _pairs(series, origins)

    def supervised(self, source: WindowSource, train: np.ndarray, val: np.ndarray | None = None,
                   test: np.ndarray | None = None) -> SupervisedData:
        """SupervisedData whose x and y are both the stored (series, origin) pairs: inputs and
        scaled targets are decoded per batch, so no window is held in memory."""
        empty = np.zeros((0, 2), np.int64)
        train, val, test = (p if p is not None else empty for p in (train, val, test))
        return SupervisedData(train, train, val, val, test, test,
                              decode=WindowDecoder(source, self.layout["horizon"]))

    def initialise_highway(self, model, source: WindowSource, pairs: np.ndarray) -> None:
        """Start the highway at the ridge least-squares linear AR pooled over (a sample of) the
        training windows in their own scale, so the network begins as a global linear model."""
        from convsuite.suites.timeseries.models import AutoregressiveHighway

        highways = [layer for layer in model.layers if isinstance(layer, AutoregressiveHighway)]
        if not highways:
            return
        layer = highways[0]
        sample = pairs
        if len(pairs) > 50_000:
            sample = pairs[np.random.default_rng([self.seed, 7]).choice(len(pairs), 50_000, replace=False)]
        x, _, _ = source.inputs(sample[:, 0], sample[:, 1])
        lags = x[:, -layer.lags:, 0].astype(np.float64)
        y = source.targets(sample[:, 0], sample[:, 1], layer.horizon)[:, 0].astype(np.float64)
        design = np.concatenate([lags, np.ones((len(lags), 1))], axis=1)
        gram = design.T @ design / len(design)
        penalty = 1e-3 * np.trace(gram[:-1, :-1]) / layer.lags * np.eye(len(gram))
        penalty[-1, -1] = 0.0
        solution = np.linalg.solve(gram + penalty, design.T @ y / len(design))
        layer.kernel.assign(solution[:-1, None, :].astype("float32"))
        layer.bias.assign(solution[-1].astype("float32"))

    def prepare(self, history: Collection) -> WindowSource:
        """Fix the layout (lengths, channels) from ``history`` and return its window source."""
        self.layout = None
        self.layout = self._layout(history)
        return self.source(history)

    # ------------------------------------------------------------------ the Forecaster protocol

    def fit(self, history: Collection) -> "GlobalTCNForecaster":
        """Train one model on every window of every series of ``history`` (a fixed seed)."""
        import keras

        from convsuite.common.inputs import steps_per_epoch, training_batches
        from convsuite.common.trainer import make_optimizer

        source = self.prepare(history)
        pairs = self.training_pairs(source)
        data = self.supervised(source, pairs)
        keras.utils.set_random_seed(self.seed)
        model = self.build_model(source.channels)
        self.initialise_highway(model, source, pairs)
        loss, metrics = self.loss_and_metrics()
        from convsuite.common.config import TrainerConfig

        model.compile(optimizer=make_optimizer(TrainerConfig(learning_rate=self.learning_rate)), loss=loss,
                      metrics=metrics)
        callbacks = []
        if self.lr_decay_per_epoch != 1.0:
            base, decay = self.learning_rate, self.lr_decay_per_epoch
            callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch: base * decay**epoch))
        if self.epochs:  # 0 epochs: the initial model (with a highway, the pooled linear AR)
            batches = training_batches(data.x_train, data.y_train, self.batch_size, self.seed, 0, self.epochs,
                                       decode=data.decode)
            model.fit(batches, epochs=self.epochs, steps_per_epoch=steps_per_epoch(len(pairs), self.batch_size),
                      callbacks=callbacks, verbose=self.verbose, shuffle=False)
        self.model = model
        return self

    def predict(self, history: Collection, horizon: int = 0,
                quantiles: Sequence[float] = (0.1, 0.5, 0.9)) -> np.ndarray:
        """Forecasts (n_series, horizon, len(quantiles)) after the end of each series of
        ``history``, in the series' units; series need not be among those trained on."""
        if self.model is None:
            raise ConvsuiteError("this GlobalTCNForecaster is not trained yet; call fit(history) before predict")
        self.check_history(history)
        trained = self.layout["horizon"]
        horizon = int(horizon) or trained
        if horizon > trained:
            raise ConvsuiteError(f"the model forecasts {trained} steps, not {horizon}; train it with that horizon")
        source = self.source(history)
        out = self.forecast_at(source, np.arange(len(history)), source.lengths)
        return pick_quantiles(out[:, :horizon], self.layout["quantiles"], quantiles)

    def forecast_at(self, source: WindowSource, series: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Forecasts (N, H, Q) in the series' units from the given (series, origin) pairs."""
        x, location, scale = source.inputs(series, origins)
        out = np.asarray(self.model.predict(x, batch_size=1024, verbose=0), dtype=np.float64)[:, 0]
        return out * scale[:, None, None] + location[:, None, None]

    # ------------------------------------------------------------------ saving

    def save_layout(self, run_dir: Path) -> None:
        atomic_write_text(Path(run_dir) / "global.json", json.dumps(
            {**self.layout, "calendar_on": self.calendar, "static_on": self.static}, indent=1))

    @classmethod
    def from_run(cls, run_dir: str | Path, which: str = "model") -> "GlobalTCNForecaster":
        """The trained forecaster of a ``data.task=global`` run directory."""
        from convsuite.common import trainer as trainer_lib

        path = Path(run_dir) / "global.json"
        if not path.exists():
            raise ConvsuiteError(f"{run_dir} has no global.json; pass the directory of a data.task=global run")
        layout = json.loads(path.read_text())
        forecaster = cls(horizon=layout["horizon"], quantiles=layout["quantiles"],
                         input_length=layout["input_length"], dilations=layout["dilations"],
                         calendar=layout.pop("calendar_on"), static=layout.pop("static_on"))
        forecaster.layout = layout
        forecaster.model = trainer_lib.load_run_model(run_dir, which)
        return forecaster


# --------------------------------------------------------------------------- rolling origins and scores


@dataclass
class Origins:
    """Forecast origins at the end of every series: ``ends[k]`` (n_series,) is the k-th origin
    (the number of steps the forecast sees), oldest first; the model trains on steps before ends[0]."""

    ends: list[np.ndarray]
    horizon: int
    step: int


def rolling_origins(collection: Collection, horizon: int, count: int, step: int) -> Origins:
    """``count`` origins per series, ``step`` apart, the last one ``horizon`` steps before its end."""
    lengths = collection.lengths
    ends = [lengths - horizon - k * step for k in reversed(range(count))]
    return Origins(ends, horizon, step)


def mase_scale(history: np.ndarray, period: int) -> float:
    """In-sample MAE of the seasonal naive forecast (lag-1 naive if the period does not fit, or
    the seasonal one is 0): MASE's denominator (Hyndman & Koehler 2006); NaN for a flat series."""
    for lag in (period, 1):
        if 0 < lag < len(history):
            scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
            if scale > 0:
                return scale
    return float("nan")


def seasonal_naive_forecast(history: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """The last season repeated (the last value when the period does not fit)."""
    lag = period if period <= len(history) else 1
    return history[len(history) - lag:][np.arange(horizon) % lag]


def origin_scores(forecaster: GlobalTCNForecaster, collection: Collection, origins: Origins) -> dict:
    """Per-origin and mean MASE of the global TCN and of seasonal naive, and the coverage of the
    80% interval (0.1 to 0.9; the outer quantile pair if those are not trained), over every series
    of ``collection`` (series with a flat history left out)."""
    source = forecaster.source(collection)
    quantiles = forecaster.layout["quantiles"]
    middle = quantiles.index(0.5)
    low, high = (quantiles.index(0.1), quantiles.index(0.9)) if {0.1, 0.9} <= set(quantiles) else (0, -1)
    period, horizon = collection.period, origins.horizon
    per_origin, tcn_all, naive_all, covered = [], [], [], []
    for k, ends in enumerate(origins.ends):
        bands = forecaster.forecast_at(source, np.arange(len(collection)), ends)[:, :horizon]
        tcn, naive, cover = [], [], []
        for i, values in enumerate(collection.values):
            history, truth = values[: ends[i]], values[ends[i]: ends[i] + horizon]
            scale = mase_scale(history, period)
            if not np.isfinite(scale):
                continue
            tcn.append(np.mean(np.abs(truth - bands[i, :, middle])) / scale)
            naive.append(np.mean(np.abs(truth - seasonal_naive_forecast(history, horizon, period))) / scale)
            cover.append(np.mean((truth >= bands[i, :, low]) & (truth <= bands[i, :, high])))
        per_origin.append((float(np.mean(tcn)), float(np.mean(naive)), float(np.mean(cover))))
        tcn_all += tcn
        naive_all += naive
        covered += cover
    return {"test_mase": float(np.mean(tcn_all)), "test_seasonal_naive_mase": float(np.mean(naive_all)),
            "test_interval_coverage": float(np.mean(covered)), "interval": [quantiles[low], quantiles[high]],
            "test_origin_mase": [round(o[0], 4) for o in per_origin],
            "test_origin_seasonal_naive_mase": [round(o[1], 4) for o in per_origin],
            "test_origin_interval_coverage": [round(o[2], 4) for o in per_origin],
            "scored_series": len(tcn_all) // max(len(origins.ends), 1), "origin_step": origins.step, "horizon": horizon,
            "input_length": forecaster.layout["input_length"], "dilations": forecaster.layout["dilations"],
            "series": len(collection)}


class TrainedForecaster:
    """A trained global model as a Forecaster whose ``fit`` changes nothing: the backtest scores
    the model the run trained (before the first origin) at every origin."""

    def __init__(self, forecaster: GlobalTCNForecaster, name: str = "tcn_global"):
        self.forecaster, self.name = forecaster, name

    def fit(self, history: Collection) -> "TrainedForecaster":
        return self

    def predict(self, history: Collection, horizon: int, quantiles: Sequence[float]) -> np.ndarray:
        return self.forecaster.predict(history, horizon, quantiles)


BASELINE_NAMES = ("seasonal_naive", "ar", "ets", "arima", "theta")


def backtest_report(forecaster: GlobalTCNForecaster, collection: Collection, origins: Origins,
                    baselines: Sequence[str], calibrate: bool, progress: bool = False) -> dict:
    """The trained model, its conformally calibrated copy and the named statistical baselines in one
    rolling-origin backtest at the run's origins; prints its table and returns its metrics.

    ``calibrate``: the last horizon before the first origin was held out of training (the
    validation window), so split-conformal calibration (``backtest.conformalize``) on it is honest."""
    from convsuite.suites.timeseries import baselines as baselines_lib
    from convsuite.suites.timeseries.backtest import conformalize, rolling_origin_backtest

    unknown = [name for name in baselines if name not in BASELINE_NAMES]
    if unknown:
        raise ConvsuiteError(f"unknown baseline {unknown[0]!r}; use some of {', '.join(BASELINE_NAMES)}")
    quantiles, horizon = forecaster.layout["quantiles"], origins.horizon
    contenders = [TrainedForecaster(forecaster)]
    if calibrate:
        contenders.append(conformalize(TrainedForecaster(forecaster), horizon, calibration_origins=1,
                                       quantiles=quantiles))
    contenders += [f for f in baselines_lib.baseline_forecasters() if f.name in baselines]
    result = rolling_origin_backtest(collection, contenders, horizon, len(origins.ends), quantiles=quantiles,
                                     refit=False, stride=origins.step, progress=progress)
    print(result.to_markdown())
    metrics = {"backtest": result.aggregate, "backtest_skipped": result.skipped}
    for row in result.aggregate:
        key = row["forecaster"].replace("+", "_")
        metrics[f"test_{key}_mase"] = row.get("mase")
        for level in ("50", "80", "95"):
            if f"coverage_{level}" in row:
                metrics[f"test_{key}_coverage_{level}"] = row[f"coverage_{level}"]
    statistical = [row for row in result.aggregate if row["forecaster"] in ("ar", "ets", "arima", "theta")]
    if statistical:
        best = min(statistical, key=lambda row: row["mase"])
        metrics["best_baseline"], metrics["test_best_baseline_mase"] = best["forecaster"], best["mase"]
    return metrics


# --------------------------------------------------------------------------- data.task = global


def load_global_collection(experiment) -> Collection:
    d = experiment.data
    return load_collection(d.dataset, d.data_dir, fill=d.fill, id_column=d.id_column,
                           timestamp_column=d.timestamp_column, value_column=d.value_column,
                           static_columns=d.static_columns, frequency=d.frequency)


def _plan(experiment, forecaster: GlobalTCNForecaster, collection: Collection):
    """(origins, training history): the history ends at each series' first origin."""
    d = experiment.data
    # the lengths depend on the training history; the horizon only on the grid, so find it first
    horizon = forecaster.horizon or default_lengths(collection.frequency, 10**9, forecaster.kernel_size,
                                                    collection.period).horizon
    step = d.origin_step or horizon
    origins = rolling_origins(collection, horizon, d.origins, step)
    short = np.flatnonzero(origins.ends[0] < 2)
    if short.size:
        i = int(short[0])
        raise ConvsuiteError(f"series {collection.ids[i]!r} has {collection.lengths[i]} steps, too few for "
                             f"{d.origins} origins {step} apart and a horizon of {horizon}; lower data.origins")
    return origins, collection.truncated(origins.ends[0])


def train(experiment, resume: bool = True) -> dict:
    """Train the global TCN on every series up to its first rolling origin; metrics.json gets the
    MASE at every origin next to seasonal naive, and the interval coverage."""
    from convsuite.common import trainer as trainer_lib
    from convsuite.suites.timeseries.tasks import described

    with trainer_lib.open_run(experiment) as run:
        collection = load_global_collection(experiment)
        forecaster = GlobalTCNForecaster.from_experiment(experiment)
        origins, history = _plan(experiment, forecaster, collection)
        forecaster.horizon = horizon = origins.horizon
        validation = experiment.data.validation_fraction > 0  # the last horizon before the first origin
        forecaster.prepare(history.truncated(-horizon) if validation else history)  # lengths fit what trains
        source = forecaster.source(collection)  # indices into the whole collection; training pairs end early
        train_ends, val = origins.ends[0], None
        if validation:
            fits = np.flatnonzero(train_ends - horizon >= forecaster.layout["input_length"])
            val = _pairs(fits, train_ends[fits] - horizon)
            train_ends = train_ends - horizon
        pairs = forecaster.training_pairs(source, train_ends)
        everyone = np.arange(len(collection))
        test = np.concatenate([_pairs(everyone, ends) for ends in origins.ends])
        data = forecaster.supervised(source, pairs, val, test)
        forecaster.save_layout(run.path)
        loss, metrics = forecaster.loss_and_metrics()

        def build():
            model = forecaster.build_model(source.channels)
            forecaster.initialise_highway(model, source, pairs)
            return model

        def report(model):
            forecaster.model = model
            metrics = {**origin_scores(forecaster, collection, origins), **described(experiment),
                       "collection": collection.source}
            if experiment.data.baselines:
                metrics.update(backtest_report(forecaster, collection, origins, experiment.data.baselines,
                                               calibrate=validation, progress=experiment.trainer.progress))
            return metrics

        return trainer_lib.train(experiment, build, data, loss=loss, metrics=metrics, resume=resume, report=report)


def evaluate(experiment, run_dir: str | Path, which: str = "model") -> dict:
    forecaster = GlobalTCNForecaster.from_run(run_dir, which)
    collection = load_global_collection(experiment)
    forecaster.check_history(collection)
    forecaster.horizon = forecaster.layout["horizon"]
    origins, _ = _plan(experiment, forecaster, collection)
    return origin_scores(forecaster, collection, origins)


def bench_model(experiment, num_inputs: int):
    """The model ``convsuite bench`` times for data.task=global (build_model serves the one-series tasks)."""
    collection = load_global_collection(experiment)
    forecaster = GlobalTCNForecaster.from_experiment(experiment)
    origins, history = _plan(experiment, forecaster, collection)
    forecaster.horizon = origins.horizon
    forecaster.prepare(history)
    return forecaster.build_model(num_inputs)


def bench_inputs(experiment, n: int, rng):
    """(x, y, num_inputs, num_outputs) of random windows of the experiment's shape."""
    collection = load_global_collection(experiment)
    forecaster = GlobalTCNForecaster.from_experiment(experiment)
    origins, history = _plan(experiment, forecaster, collection)
    forecaster.horizon = origins.horizon
    forecaster.prepare(history)
    layout = forecaster.layout
    channels = 1 + len(layout["calendar"]) + len(layout["static_names"])
    x = rng.normal(size=(n, layout["input_length"], channels)).astype(np.float32)
    y = rng.normal(size=(n, 1, layout["horizon"])).astype(np.float32)
    return x, y, channels, 1
