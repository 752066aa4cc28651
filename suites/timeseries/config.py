"""Experiments of the time-series suite: forecasting, classification, anomaly detection and
the TCN paper's synthetic stress tests.

Imports no Keras, so the CLI can read a config and pick the backend before Keras starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convsuite.common.config import DataConfig, Experiment, ModelConfig, TrainerConfig, setting, uses
from convsuite.common.errors import ConvsuiteError
from convsuite.common.reproduce import PaperResult
from convsuite.suites.timeseries.ucr import UCR_BUNDLED

TASKS = ("forecast", "classify", "anomaly", "adding", "copy", "global")
MODEL_FOR_TASK = {"forecast": "tcn", "adding": "tcn", "copy": "tcn", "classify": "fcn", "anomaly": "srcnn",
                  "global": "tcn"}
CLASSIFIERS = ("fcn", "resnet", "inception")
# data.task -> the architectures it accepts (the first is MODEL_FOR_TASK's default)
MODELS_FOR_TASK = {task: (CLASSIFIERS if task == "classify" else (model,)) for task, model in MODEL_FOR_TASK.items()}
ARCHITECTURES = ("tcn", "fcn", "resnet", "inception", "srcnn")
TCN, FCN, SRCNN = uses("model.name", "tcn"), uses("model.name", "fcn"), uses("model.name", "srcnn")
RESNET, INCEPTION = uses("model.name", "resnet"), uses("model.name", "inception")
CLASSIFIER = uses("model.name", *CLASSIFIERS)
FORECAST, ANOMALY = uses("data.task", "forecast"), uses("data.task", "anomaly")
CLASSIFY = uses("data.task", "classify")
# InceptionTime (Ismail Fawaz et al. 2020) is an ensemble of five networks; the others are single networks.
DEFAULT_ENSEMBLE = {"inception": 5}
SERIES = uses("data.task", "forecast", "anomaly")  # tasks that read a series (built-in, CSV or Parquet)
GLOBAL = uses("data.task", "global")  # one model across a collection of series (tasks/global_forecast.py)
FORECASTS = uses("data.task", "forecast", "global")
FILES = uses("data.task", "forecast", "anomaly", "global")  # tasks that read CSV/Parquet files
SYNTHETIC = uses("data.task", "adding", "copy")
FILL_POLICIES = ("error", "ffill", "interpolate", "zero")


@dataclass
class TimeSeriesModelConfig(ModelConfig):
    name: str = setting("tcn", "architecture: tcn (forecast, adding, copy), fcn | resnet | inception (classify), "
                               "srcnn (anomaly)", choices=ARCHITECTURES)
    # TCN trunk (Bai et al. 2018), WaveNet skips (van den Oord et al. 2016)
    filters: int = setting(32, "TCN: filters of every dilated causal convolution", at_least=1, used_by=TCN)
    kernel_size: int = setting(3, "TCN: kernel size of every dilated causal convolution", at_least=1, used_by=TCN)
    dilations: list[int] = setting([1, 2, 4, 8, 16, 32, 64], "TCN: dilation of each residual block; global: [] = "
                                                             "from the frequency and series length", at_least=1,
                                   used_by=TCN)
    stacks: int = setting(1, "TCN: the dilation list repeats this many times", at_least=1, used_by=TCN)
    dropout: float = setting(0.0, "TCN: spatial dropout inside each block", at_least=0, below=1, used_by=TCN)
    normalization: str = setting("weight", "TCN: normalisation of each convolution",
                                 choices=("weight", "layer", "none"), used_by=TCN)
    skip_connections: bool = setting(True, "TCN: WaveNet skip connections from every block to the head",
                                     used_by=TCN)
    highway: int = setting(0, "forecast: >0 adds a linear autoregression on this many past target values "
                              "(LSTNet, Lai et al. 2018); global: on min(this, data.input_length)", at_least=0,
                           used_by=FORECASTS)
    quantiles: list[float] = setting([], "forecast: quantiles to predict, e.g. [0.1, 0.5, 0.9]; empty = point "
                                         "forecast (MSE); global: must include 0.5", above=0, below=1,
                                     used_by=FORECASTS)
    # FCN classifier (Wang et al. 2017)
    fcn_filters: list[int] = setting([128, 256, 128], "FCN: filters of each convolution block", at_least=1,
                                     used_by=FCN)
    fcn_kernel_sizes: list[int] = setting([8, 5, 3], "FCN: kernel size of each convolution block", at_least=1,
                                          used_by=FCN)
    # ResNet classifier (Wang et al. 2017)
    resnet_filters: list[int] = setting([64, 128, 128], "ResNet: filters of each residual block", at_least=1,
                                        used_by=RESNET)
    resnet_kernel_sizes: list[int] = setting([8, 5, 3], "ResNet: kernel sizes of the convolutions inside each block",
                                             at_least=1, used_by=RESNET)
    # InceptionTime (Ismail Fawaz et al. 2020)
    inception_filters: int = setting(32, "InceptionTime: filters of each branch of a module", at_least=1,
                                     used_by=INCEPTION)
    inception_bottleneck: int = setting(32, "InceptionTime: bottleneck channels before the long convolutions; "
                                            "0 = none", at_least=0, used_by=INCEPTION)
    inception_kernel_sizes: list[int] = setting([40, 20, 10], "InceptionTime: lengths of the parallel convolutions",
                                                at_least=1, used_by=INCEPTION)
    inception_depth: int = setting(6, "InceptionTime: modules; a residual connection every three", at_least=1,
                                   used_by=INCEPTION)
    ensemble: int = setting(0, "classify: networks trained per set (seeds trainer.seed + 1000 i), their class "
                               "probabilities averaged; 0 = the architecture's own: 5 for inception (InceptionTime), "
                               "1 otherwise", at_least=0, used_by=CLASSIFIER)
    # SR-CNN (Ren et al. 2019)
    srcnn_window: int = setting(64, "SR-CNN: points per window the detector sees", at_least=4, used_by=SRCNN)


@dataclass
class TimeSeriesDataConfig(DataConfig):
    task: str = setting("forecast", "what to learn; picks the architecture (see model.name)", choices=TASKS)
    dataset: str = setting("elecdemand", "forecast / anomaly: elecdemand | co2 | sunspots | a .csv/.parquet path; "
                                         "classify: UCR set names, comma-separated; global: us_employment | "
                                         "aus_accommodation | prison | a long-format .csv/.parquet path")
    target: str = setting("", "forecast / anomaly: the column to forecast or scan", used_by=SERIES)
    covariates: list[str] = setting([], "forecast: conditioning series (columns of the dataset)", used_by=FORECAST)
    timestamp_column: str = setting("timestamp", "CSV/Parquet files: the time column", used_by=FILES)
    frequency: str = setting("", "CSV/Parquet files: the time grid as a pandas offset (\"30min\", \"1h\"); "
                                 "empty = inferred", used_by=FILES)
    fill: str = setting("error", "NaN/inf and missing timestamps: refuse them or fill them so",
                        choices=FILL_POLICIES, used_by=FILES)
    # global: a long-format collection, one row per (id, timestamp)
    id_column: str = setting("id", "global: the column naming each row's series", used_by=GLOBAL)
    value_column: str = setting("value", "global: the column of values to forecast", used_by=GLOBAL)
    static_columns: list[str] = setting([], "global: columns constant per series, fed as constant channels (text "
                                            "one-hot, numbers standardised)", used_by=GLOBAL)
    origins: int = setting(3, "global: rolling forecast origins at the end of every series, scored after training "
                              "on the steps before the first", at_least=1, used_by=GLOBAL)
    origin_step: int = setting(0, "global: steps between origins; 0 = the horizon", at_least=0, used_by=GLOBAL)
    max_windows: int = setting(100_000, "global: training windows (series, origin) drawn once with the seed; "
                                        "decoded per batch", at_least=1, used_by=GLOBAL)
    baselines: list[str] = setting(["seasonal_naive", "ar", "ets", "arima", "theta"],
                                   "global: statistical forecasters backtested at the same origins beside the CNN "
                                   "(and its conformal calibration); ets takes seconds per series", used_by=GLOBAL,
                                   choices=("seasonal_naive", "ar", "ets", "arima", "theta"))
    # Covariates known in advance (calendar flags, holidays): each adds a copy of itself led by
    # `horizon` steps, so the forecast at t sees the value at t+horizon. Targets are never led.
    known_future: list[str] = setting([], "forecast: covariates known in advance (each also fed led by the horizon)",
                                      used_by=FORECAST)
    calendar_features: bool = setting(False, "forecast: add time-of-day / day-of-week sin+cos covariates; global: "
                                             "the grid's cycles (month of year, quarter, ...)", used_by=FORECASTS)
    input_length: int = setting(512, "forecast: history given to each forecast (>= the receptive field); global: "
                                     "0 = from the frequency and series length", at_least=0, used_by=FORECASTS)
    # Steps before the receptive field fills are not scored, so longer windows score more steps each.
    train_length: int = setting(0, "forecast: training window length (0 or >= input_length); 0 = input_length",
                                at_least=0, used_by=FORECAST)
    horizon: int = setting(48, "forecast: steps forecast from each position; global: 0 = the M4 horizon of the "
                               "frequency (monthly 18, quarterly 8, ...)", at_least=0, used_by=FORECASTS)
    forecast: str = setting("direct", "forecast: direct (one pass, all horizons) or recursive (one step, fed back)",
                            choices=("direct", "recursive"), used_by=FORECAST)
    test_fraction: float = setting(0.2, "forecast / anomaly: the last part of the series, in time order",
                                   above=0, below=1, used_by=SERIES)
    stride: int = setting(24, "forecast: steps between training windows", at_least=1, used_by=FORECAST)
    eval_stride: int = setting(48, "forecast: steps between forecast origins on validation / test", at_least=1,
                               used_by=FORECAST)
    # adding / copy (Bai et al. 2018, section 5)
    sequence_length: int = setting(100, "adding / copy: the sequence length T", at_least=1, used_by=SYNTHETIC)
    train_samples: int = setting(50000, "adding / copy: training sequences generated", at_least=1,
                                 used_by=SYNTHETIC)
    test_samples: int = setting(2000, "adding / copy: test sequences generated", at_least=1, used_by=SYNTHETIC)
    # anomaly
    anomaly_rate: float = setting(0.01, "anomaly: injected anomalies per point of the test series", above=0,
                                  below=0.5, used_by=ANOMALY)
    anomaly_delay: int = setting(7, "anomaly: delay-tolerant F1 counts a detection within this many points of a "
                                    "segment's start", at_least=0, used_by=ANOMALY)
    srcnn_windows: int = setting(20000, "anomaly: training windows cut from the injected training series",
                                 at_least=1, used_by=ANOMALY)
    srcnn_train_rate: float = setting(0.08, "anomaly: anomaly rate injected into training windows (denser than "
                                            "the test rate helps)", above=0, below=0.5, used_by=ANOMALY)
    # classify (Fawaz et al. 2019's recipe: batch min(N/10, 16), the model of lowest training loss)
    batch_fraction: float = setting(0.1, "classify: batch size = min(trainer.batch_size, this x training series), "
                                         "at least 1", above=0, at_most=1, used_by=CLASSIFY)
    scored_model: str = setting("best", "classify: the model that scores the test set: best (lowest "
                                        "trainer.monitor, e.g. the training loss) or final", choices=("best", "final"),
                                used_by=CLASSIFY)


@dataclass
class TimeSeriesExperiment(Experiment):
    suite: str = setting("timeseries", "the suite this experiment belongs to")
    model: TimeSeriesModelConfig = field(default_factory=TimeSeriesModelConfig, metadata={"help": "the architecture"})
    data: TimeSeriesDataConfig = field(default_factory=TimeSeriesDataConfig,
                                       metadata={"help": "the task, the data and its splits"})

    def check_consistency(self) -> None:
        d, m = self.data, self.model
        if m.name not in MODELS_FOR_TASK[d.task]:
            raise ConvsuiteError(f"data.task={d.task} uses model.name={' | '.join(MODELS_FOR_TASK[d.task])}, "
                                 f"got {m.name!r}")
        if d.task == "classify" and d.scored_model == "best" and self.trainer.monitor.startswith("val_"):
            raise ConvsuiteError(f"data.scored_model=best keeps the model of the best trainer.monitor="
                                 f"{self.trainer.monitor}, but classification trains without a validation split; "
                                 "set trainer.monitor=loss (the lowest training loss) or data.scored_model=final")
        if d.task != "global":  # only the global task chooses lengths from the frequency
            for path, value in (("data.input_length", d.input_length), ("data.horizon", d.horizon)):
                if value < 1:
                    raise ConvsuiteError(f"{path}={value} chooses the length from the frequency only with "
                                         f"data.task=global; give data.task={d.task} a number >= 1")
        if d.task == "global" and (0.5 not in m.quantiles or list(m.quantiles) != sorted(set(m.quantiles))):
            raise ConvsuiteError(f"data.task=global needs model.quantiles strictly increasing and including 0.5, "
                                 f"e.g. [0.1, 0.5, 0.9], got {list(m.quantiles)}")
        if d.task in ("forecast", "anomaly") and not d.target:
            raise ConvsuiteError(f"data.task={d.task} needs data.target, the column to "
                                 f"{'forecast' if d.task == 'forecast' else 'scan'}")
        if d.task == "forecast":
            if d.target in d.known_future:
                raise ConvsuiteError(f"data.known_future names the target {d.target!r}; a forecast cannot see the "
                                     "future target")
            if d.forecast == "recursive" and m.quantiles:
                raise ConvsuiteError("quantile forecasts need data.forecast=direct (a recursive forecast feeds back "
                                     "one value)")
            if list(m.quantiles) != sorted(set(m.quantiles)):
                raise ConvsuiteError(f"model.quantiles={list(m.quantiles)} must be strictly increasing, "
                                     "e.g. [0.1, 0.5, 0.9]")
            if d.train_length and d.train_length < d.input_length:
                raise ConvsuiteError(f"data.train_length={d.train_length} must be 0 or >= data.input_length="
                                     f"{d.input_length}")
        if m.name == "fcn" and len(m.fcn_filters) != len(m.fcn_kernel_sizes):
            raise ConvsuiteError(f"model.fcn_filters {list(m.fcn_filters)} and model.fcn_kernel_sizes "
                                 f"{list(m.fcn_kernel_sizes)} must be equally long lists")
        for key in {"resnet": ("resnet_filters", "resnet_kernel_sizes"),
                    "inception": ("inception_kernel_sizes",)}.get(m.name, ()):
            if not getattr(m, key):
                raise ConvsuiteError(f"model.{key} must not be empty, e.g. {getattr(TimeSeriesModelConfig(), key)}")
        if m.name == "tcn" and not m.dilations and d.task != "global":
            raise ConvsuiteError("model.dilations must name at least one dilation, e.g. [1, 2, 4, 8] (only "
                                 "data.task=global chooses them from the frequency when empty)")


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


def forecast_csv() -> TimeSeriesExperiment:
    """A user's own CSV/Parquet series: the elecdemand recipe without elecdemand's covariates and
    sized for shorter files (a 128-step history needs about 1,500 rows in all)."""
    exp = forecast_elecdemand()
    exp.name = "forecast-csv"
    exp.description = "TCN forecast of your own CSV/Parquet series: set data.dataset and data.target (no covariates)"
    exp.data.dataset, exp.data.target, exp.data.covariates, exp.data.known_future = "series.csv", "value", [], []
    exp.data.input_length, exp.data.train_length, exp.data.horizon = 128, 512, 24
    exp.data.stride, exp.data.eval_stride = 8, 24
    exp.model.dilations = [1, 2, 4, 8, 16]  # receptive field 125 steps
    exp.model.highway = 128
    return exp


# Training recipes of Fawaz et al. 2019 (FCN, ResNet) and 2020 (InceptionTime): epochs, the largest batch and
# the batch's share of the training series (FCN min(N/10, 16), ResNet min(N/10, 64), InceptionTime 64).
CLASSIFIER_RECIPES = {"fcn": (2000, 16, 0.1), "resnet": (1500, 64, 0.1), "inception": (1500, 64, 1.0)}


def _classify(name: str, description: str, model: str, sets: str, epochs: int = 0) -> TimeSeriesExperiment:
    """A classify experiment with the paper's recipe: Adam 1e-3, the recipe's batch, and the test
    set scored by the model of the lowest training loss. The papers halve the learning rate on
    plateaus of the training loss down to 1e-4; here it decays geometrically from 1e-3 to 1e-4
    over the run (the shared trainer's schedule)."""
    paper_epochs, largest_batch, share = CLASSIFIER_RECIPES[model]
    epochs = epochs or paper_epochs
    exp = TimeSeriesExperiment(name=name, description=description)
    exp.model = TimeSeriesModelConfig(name=model)
    exp.data = TimeSeriesDataConfig(task="classify", dataset=sets, target="", covariates=[], validation_fraction=0.0,
                                    batch_fraction=share, scored_model="best")
    exp.trainer = TrainerConfig(epochs=epochs, batch_size=largest_batch, learning_rate=1e-3,
                                lr_decay_per_epoch=round(0.1 ** (1.0 / epochs), 8), monitor="loss",
                                checkpoint_every_epochs=50)
    return exp


def classify_ucr() -> TimeSeriesExperiment:
    """FCN on four UCR/UEA sets shipped with aeon, each against 1-NN Euclidean distance: the
    paper's recipe shortened to 300 epochs (about half an hour on two CPU cores, most of it OSULeaf)."""
    return _classify("classify-ucr", "FCN (Wang et al. 2017) on four UCR/UEA sets bundled with aeon, 300 epochs",
                     "fcn", "BasicMotions,JapaneseVowels,OSULeaf,ItalyPowerDemand", epochs=300)


def classify_ucr_all(model: str = "fcn") -> TimeSeriesExperiment:
    """``model`` on all eight UCR/UEA sets aeon bundles with the paper's recipe and epochs.

    CPU cost (2 shared cores, TensorFlow): an FCN epoch over the eight sets takes about 18 s (ACSF1
    10 s, OSULeaf 5 s, the other six 3 s together), so 2,000 epochs take ~10 h per seed. ResNet
    and one InceptionTime network take 1-2x as long per epoch (OSULeaf: 5 s and 10 s), and
    InceptionTime trains 5 networks."""
    suffix = "" if model == "fcn" else f"-{model}"
    title = {"fcn": "FCN (Wang et al. 2017)", "resnet": "ResNet (Wang et al. 2017)",
             "inception": "InceptionTime (Ismail Fawaz et al. 2020)"}[model]
    return _classify(f"classify-ucr-all{suffix}", f"{title} on the 8 UCR/UEA sets bundled with aeon, paper recipe",
                     model, ",".join(UCR_BUNDLED))


def classify_ucr_all_resnet() -> TimeSeriesExperiment:
    """ResNet: one network per set, 1,500 epochs, batch min(N/10, 64)."""
    return classify_ucr_all("resnet")


def classify_ucr_all_inception() -> TimeSeriesExperiment:
    """InceptionTime: five networks per set (model.ensemble=1 trains one, a fifth of the cost)."""
    return classify_ucr_all("inception")


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


def forecast_us_employment() -> TimeSeriesExperiment:
    """One global TCN across the 148 monthly series of fpp3 us_employment, scored at rolling
    origins against seasonal naive (and the statistical baselines, where the backtest runs)."""
    exp = TimeSeriesExperiment(name="forecast-us-employment",
                               description="global TCN over fpp3 us_employment (148 monthly series), rolling origins")
    # Lengths from the monthly grid: horizon 18, dilations [1, 2, 4, 8], input 61 months.
    # The highway reads the whole input (512 is capped at the input length): the network starts
    # as the pooled linear AR, which alone beats seasonal naive by far on these series.
    exp.model = TimeSeriesModelConfig(name="tcn", filters=32, kernel_size=3, dilations=[], highway=512,
                                      quantiles=[0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975])
    exp.data = TimeSeriesDataConfig(task="global", dataset="us_employment", target="", covariates=[],
                                    known_future=[], calendar_features=True, input_length=0, horizon=0,
                                    origins=3, origin_step=0, validation_fraction=0.1)
    exp.trainer = TrainerConfig(epochs=8, batch_size=256, learning_rate=1e-3, lr_decay_per_epoch=0.8,
                                monitor="val_loss")
    return exp


EXPERIMENTS = {
    "forecast-elecdemand": forecast_elecdemand,
    "forecast-co2": forecast_co2,
    "forecast-csv": forecast_csv,
    "classify-ucr": classify_ucr,
    "classify-ucr-all": classify_ucr_all,
    "classify-ucr-all-resnet": classify_ucr_all_resnet,
    "classify-ucr-all-inception": classify_ucr_all_inception,
    "anomaly-sr": anomaly_sr,
    "adding": adding,
    "copy": copy_memory,
    "forecast-us-employment": forecast_us_employment,
}
DEFAULT_EXPERIMENT = "forecast-elecdemand"

# The paper table of `convsuite reproduce timeseries` (fields: convsuite.common.reproduce).


def _fcn_row(name: str, published_error: float | None, note: str) -> PaperResult:
    """One UCR set of the classify-ucr run; Wang et al. publish test error rates."""
    return PaperResult(paper="Wang et al. 2017", setting=f"FCN, UCR {name} test accuracy",
                       paper_value=None if published_error is None else round(1.0 - published_error, 4),
                       experiment="classify-ucr", metric=f"datasets.{name}.test_accuracy",
                       baseline_metric=f"datasets.{name}.nn1_euclidean_accuracy", baseline="1-NN Euclidean",
                       quick=["trainer.epochs=25"], note=note)


PAPER_RESULTS = [
    PaperResult(paper="Bai et al. 2018", setting="TCN day-ahead forecast, fpp2 elecdemand, test MASE", paper_value=None,
                experiment="forecast-elecdemand", metric="test_mase", baseline_metric="test_linear_ar_mase",
                baseline="linear AR", higher_is_better=False, quick=["data.stride=48", "trainer.epochs=4"],
                note="the paper has no forecasting benchmark; metrics.json also has seasonal naive"),
    _fcn_row("OSULeaf", 0.012, "paper: 2,000 epochs"),
    _fcn_row("ItalyPowerDemand", 0.030, "paper: 2,000 epochs"),
    _fcn_row("BasicMotions", None, "multivariate: not among the paper's univariate UCR sets"),
    _fcn_row("JapaneseVowels", None, "multivariate: not among the paper's univariate UCR sets"),
    PaperResult(paper="Ren et al. 2019", setting="SR-CNN, elecdemand with injected anomalies, adjusted F1",
                paper_value=None, experiment="anomaly-sr", metric="srcnn_adjusted_f1",
                baseline_metric="sr_adjusted_f1", baseline="Spectral Residual",
                quick=["data.srcnn_windows=4000", "trainer.epochs=2"],
                note="the paper scores KPI, Yahoo and Microsoft series, not elecdemand"),
    PaperResult(paper="Bai et al. 2018", setting="TCN, adding problem T=100, test MSE", paper_value=None,
                experiment="adding", metric="test_loss", baseline_metric="predict_one_mse", baseline="predict 1",
                higher_is_better=False, quick=["data.train_samples=4000", "trainer.epochs=2"],
                note="paper: MSE 5.8e-5 at T=600; no number at T=100"),
    PaperResult(paper="Bai et al. 2018", setting="TCN, copy memory T=50, test cross-entropy", paper_value=None,
                experiment="copy", metric="test_loss", baseline_metric="memoryless_loss", baseline="memoryless",
                higher_is_better=False, quick=["data.train_samples=4000", "trainer.epochs=2"],
                note="paper: loss 3.5e-5 at T=1000; no number at T=50"),
]
