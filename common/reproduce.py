"""`convsuite reproduce`: each suite's paper table next to our runs and their baselines.

Every suite declares, at the end of its ``config.py``, ``PAPER_RESULTS``: a list of
:class:`PaperResult` rows, one per published number (or per setting we report without one).
The fields of a row:

- ``paper``: who published it, e.g. ``"LeCun et al. 1998"``.
- ``setting``: what the number is, in words: model, dataset, metric, e.g.
  ``"LeNet-5, MNIST test accuracy"``.
- ``experiment``: the suite's experiment (a key of ``EXPERIMENTS``) that reproduces it.
- ``metric``: the key of ``RUN/metrics.json`` holding our number; a dotted path reads nested
  dicts (``"datasets.OSULeaf.test_accuracy"``).
- ``paper_value``: the published number in the same units as ``metric`` (an error rate of
  0.95% against a ``test_accuracy`` is 0.9905), or ``None`` when the paper has no number for
  this setting; ``note`` then says why (another dataset, another sequence length...).
- ``baseline_metric`` / ``baseline``: the metrics.json key of the simple method the run is
  compared with on the same data, and its name for the table (``"seasonal naive"``).
- ``higher_is_better``: the metric's direction (accuracy: True; error, MSE, MASE: False).
- ``quick``: ``--set`` overrides for ``--quick``: a small subset and few epochs, so the whole
  suite runs in minutes on a CPU; ``None`` when a quick run is impossible (data a user must
  bring). Rows of the same experiment share one run and so the same ``quick`` list.
- ``note``: one short sentence the table shows beside the row.

For each row the command reads the finished run directory (``RUNS/<experiment>``, with
``--quick`` ``RUNS/<experiment>-quick``) when its config.toml matches the experiment, else
trains it through the suite's ``train`` exactly as ``convsuite train`` does (resuming an
interrupted run), and prints one table: paper, ours, baseline, and the run's date, device
and training seconds from its metrics.json. The module imports no Keras.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from convsuite.common.errors import ConvsuiteError

# Config keys that say where or how visibly a run happens, not what it computes.
IGNORED_CONFIG_KEYS = ("trainer.run_dir", "trainer.progress", "trainer.checkpoint_every_epochs",
                       "trainer.checkpoint_every_steps", "trainer.keep_checkpoints")
COMPARED_SECTIONS = ("model", "data", "trainer")
MARKER = "<!-- reproduce:{mode}:{edge} -->"
COLUMNS = ("suite", "paper", "setting", "experiment", "metric", "paper's", "ours", "baseline",
           "run date", "device", "train s", "note")


@dataclass
class PaperResult:
    """One published number and the experiment and metrics.json key that reproduce it."""

    paper: str
    setting: str
    experiment: str
    metric: str
    paper_value: float | None = None
    baseline_metric: str = ""
    baseline: str = ""
    higher_is_better: bool = True
    quick: list[str] | None = field(default_factory=list)
    note: str = ""


@dataclass
class Outcome:
    """A row of the printed table: the paper's number, ours, and where ours came from."""

    suite: str
    row: PaperResult
    run_dir: str
    status: str  # read | trained | not run | no quick mode | error
    ours: float | None = None
    baseline_value: float | None = None
    date: str = ""
    device: str = ""
    seconds: float | None = None
    message: str = ""

    def as_dict(self) -> dict:
        return {"suite": self.suite, **asdict(self.row), "run_dir": self.run_dir, "status": self.status,
                "ours": self.ours, "baseline_value": self.baseline_value, "date": self.date,
                "device": self.device, "train_seconds": self.seconds, "message": self.message}


# --------------------------------------------------------------------------- rows


def paper_rows(suite: str) -> list[PaperResult]:
    """The suite's ``PAPER_RESULTS``, checked (see :func:`check_rows`)."""
    from convsuite.common import registry

    module = registry.config_module(suite)
    rows = getattr(module, "PAPER_RESULTS", None)
    if rows is None:
        raise ConvsuiteError(f"suite {suite!r} declares no PAPER_RESULTS in its config.py; "
                             "add a list of convsuite.common.reproduce.PaperResult rows there")
    check_rows(suite, rows, module.EXPERIMENTS)
    return list(rows)


def check_rows(suite: str, rows: list[PaperResult], experiments: dict) -> None:
    """Each row names an experiment of the suite and a metric; rows sharing an experiment
    share its quick overrides (they read one run directory)."""
    quick_of: dict[str, Any] = {}
    for row in rows:
        if not isinstance(row, PaperResult):
            raise ConvsuiteError(f"{suite} PAPER_RESULTS holds {row!r}; each row must be a PaperResult")
        if row.experiment not in experiments:
            raise ConvsuiteError(f"{suite} PAPER_RESULTS row {row.setting!r} names experiment {row.experiment!r}, "
                                 f"which is not one of {', '.join(experiments)}")
        if not row.metric:
            raise ConvsuiteError(f"{suite} PAPER_RESULTS row {row.setting!r} has no metric key")
        quick = None if row.quick is None else list(row.quick)
        if row.experiment in quick_of and quick_of[row.experiment] != quick:
            raise ConvsuiteError(f"{suite} PAPER_RESULTS rows of experiment {row.experiment!r} give different quick "
                                 f"overrides ({quick_of[row.experiment]} and {quick}); they share one run, give them one list")
        quick_of[row.experiment] = quick


def run_directory(row: PaperResult, quick: bool, runs: str | Path = "runs") -> Path:
    return Path(runs) / (row.experiment + ("-quick" if quick else ""))


def configured_experiment(suite: str, row: PaperResult, quick: bool, runs: str | Path = "runs"):
    """The experiment a row's run must have been trained with (quick overrides applied)."""
    from convsuite.common import registry

    overrides = list(row.quick or []) if quick else []
    overrides.append(f"trainer.run_dir={run_directory(row, quick, runs)}")
    return registry.make_experiment(suite, row.experiment, overrides)


# --------------------------------------------------------------------------- run directories


def config_differences(run_dir: Path, experiment) -> list[str]:
    """``key: saved != wanted`` for every model/data/trainer value in which ``run_dir``'s
    config.toml differs from ``experiment`` (run directory, checkpoint cadence and progress
    display are not compared)."""
    from convsuite.common import rundir

    path = Path(run_dir) / "config.toml"
    try:
        saved = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConvsuiteError(f"cannot read {path} ({error}); delete {run_dir} or pass another --runs folder") from None
    return [f"{key}: {'missing' if old is None else repr(old)} != {'missing' if new is None else repr(new)}"
            for key, old, new in rundir.config_differences(saved, experiment, IGNORED_CONFIG_KEYS, COMPARED_SECTIONS)]


def read_metrics(run_dir: Path) -> dict:
    path = Path(run_dir) / "metrics.json"
    try:
        metrics = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ConvsuiteError(f"cannot read {path} ({error}); run the experiment again into a fresh folder") from None
    if not isinstance(metrics, dict):
        raise ConvsuiteError(f"{path} holds {type(metrics).__name__}, not an object of metrics")
    return metrics


def metric_value(metrics: dict, key: str, where: str = "metrics.json") -> float:
    """The number at dotted ``key`` of ``metrics``; a ConvsuiteError naming the keys there if absent."""
    value: Any = metrics
    for depth, part in enumerate(key.split(".")):
        if not isinstance(value, dict) or part not in value:
            known = sorted(value) if isinstance(value, dict) else []
            at = ".".join(key.split(".")[:depth]) or "the top level"
            raise ConvsuiteError(f"{where} has no {key!r} ({at} has: {', '.join(known) or 'nothing'}); "
                                 "fix the row's metric key or make the suite's trainer report it")
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConvsuiteError(f"{where} key {key!r} holds {value!r}, not a number")
    return float(value)


def _sub_run_metrics(run_dir: Path) -> list[dict]:
    """metrics.json of the runs inside ``run_dir`` (MCDNN columns, one FCN per UCR set)."""
    found = []
    for path in sorted(Path(run_dir).glob("*/metrics.json")) + sorted(Path(run_dir).glob("*/*/metrics.json")):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    return found


def run_metadata(run_dir: Path, metrics: dict) -> tuple[str, str, float | None]:
    """(date, device, training seconds) of a finished run, from its metrics.json; a run made of
    sub-runs without its own totals adds up theirs."""
    path = Path(run_dir) / "metrics.json"
    stamp = next((metrics[k] for k in ("finished_at", "finished", "date") if isinstance(metrics.get(k), str)), "")
    if stamp:
        date = stamp[:10]
    elif path.exists():
        date = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d")
    else:
        date = dt.date.today().isoformat()
    parts = [metrics] + _sub_run_metrics(run_dir)
    device = next((str(m["device"]) for m in parts if m.get("device")), "")
    backend = next((str(m["backend"]) for m in parts if m.get("backend")), "")
    device = "/".join(p for p in (device, backend) if p)
    seconds = metrics.get("train_seconds")
    if not isinstance(seconds, (int, float)):
        sub = [m["train_seconds"] for m in parts[1:] if isinstance(m.get("train_seconds"), (int, float))]
        seconds = float(sum(sub)) if sub else None
    return date, device, seconds


# --------------------------------------------------------------------------- running


def start_backend(backend: str) -> None:
    """Start Keras on ``backend`` the way `convsuite train` does (tests replace this)."""
    from convsuite.common.cli import start_keras

    start_keras(backend)


def train_run(suite: str, experiment) -> dict:
    """Train (or resume) ``experiment`` through the suite's trainer, as `convsuite train` does."""
    from convsuite.common import registry

    experiment.runtime.backend = os.environ.get("KERAS_BACKEND") or experiment.runtime.backend
    start_backend(experiment.runtime.backend)
    return registry.train_module(suite).train(experiment, resume=True)


def _obtain_metrics(suite: str, row: PaperResult, quick: bool, runs, train: bool,
                    log: Callable[[str], None]) -> tuple[str, Path, dict | None]:
    """(status, run directory, metrics or None) for one experiment's run."""
    run_dir = run_directory(row, quick, runs)
    if quick and row.quick is None:
        return "no quick mode", run_dir, None
    experiment = configured_experiment(suite, row, quick, runs)
    if (run_dir / "config.toml").exists():
        differences = config_differences(run_dir, experiment)
        if differences:
            raise ConvsuiteError(f"{run_dir} holds a run of another {row.experiment} config "
                                 f"({'; '.join(differences[:3])}); delete it or pass another --runs folder")
        if (run_dir / "metrics.json").exists():
            log(f"reproduce: {suite} {row.experiment}: reading {run_dir}")
            return "read", run_dir, read_metrics(run_dir)
    if not train:
        return "not run", run_dir, None
    overrides = " ".join(f"--set {o}" for o in (row.quick or [])) if quick else ""
    log(f"reproduce: {suite} {row.experiment}: training into {run_dir} {overrides}".rstrip())
    returned = train_run(suite, experiment)
    metrics = read_metrics(run_dir) if (run_dir / "metrics.json").exists() else dict(returned or {})
    return "trained", run_dir, metrics


def reproduce(suites: list[str] | None = None, quick: bool = False, runs: str | Path = "runs",
              only: str | None = None, train: bool = True,
              log: Callable[[str], None] | None = None) -> list[Outcome]:
    """Read or run every row of ``suites`` (default: all registered) and return the table's rows.

    A row whose run cannot be made or read (missing data, a metric key the run lacks) becomes
    an ``error`` row with the reason; the others still run."""
    from convsuite.common import registry

    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    names = suites or list(registry.SUITES)
    selected = [(suite, row) for suite in names for row in paper_rows(suite)
                if only is None or row.experiment == only]
    if only is not None and not selected:
        available = sorted({row.experiment for suite in names for row in paper_rows(suite)})
        raise ConvsuiteError(f"--only {only!r}: no paper row of {', '.join(names)} uses that experiment; "
                             f"rows use {', '.join(available)}")
    runs_done: dict[tuple[str, str], tuple[str, Path, dict | None, str]] = {}
    outcomes = []
    for suite, row in selected:
        key = (suite, row.experiment)
        if key not in runs_done:
            try:
                status, run_dir, metrics = _obtain_metrics(suite, row, quick, runs, train, log)
                runs_done[key] = (status, run_dir, metrics, "")
            except ConvsuiteError as error:
                runs_done[key] = ("error", run_directory(row, quick, runs), None, str(error))
        status, run_dir, metrics, message = runs_done[key]
        outcome = Outcome(suite, row, str(run_dir), status, message=message)
        if status == "no quick mode":
            outcome.message = "needs data a user brings: run it in full"
        elif status == "not run":
            outcome.message = f"no finished run in {run_dir}"
        if metrics is not None:
            outcome.date, outcome.device, outcome.seconds = run_metadata(run_dir, metrics)
            where = f"{run_dir}/metrics.json"
            try:
                outcome.ours = metric_value(metrics, row.metric, where)
            except ConvsuiteError as error:
                outcome.status, outcome.message = "error", str(error)
            if row.baseline_metric:
                try:
                    outcome.baseline_value = metric_value(metrics, row.baseline_metric, where)
                except ConvsuiteError:
                    extra = f"no baseline: metrics.json has no {row.baseline_metric!r}"
                    outcome.message = "; ".join(m for m in (outcome.message, extra) if m)
        outcomes.append(outcome)
    return outcomes


# --------------------------------------------------------------------------- rendering


def format_number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _cells(outcome: Outcome, markdown: bool) -> list[str]:
    row = outcome.row
    code = (lambda text: f"`{text}`") if markdown else (lambda text: text)
    direction = "higher" if row.higher_is_better else "lower"
    ours = format_number(outcome.ours) if outcome.ours is not None else outcome.status
    baseline = "-"
    if outcome.baseline_value is not None:
        baseline = format_number(outcome.baseline_value) + (f" ({row.baseline})" if row.baseline else "")
    note = "; ".join(text for text in (row.note, outcome.message) if text)
    return [outcome.suite, row.paper, row.setting, code(row.experiment), f"{code(row.metric)} ({direction})",
            format_number(row.paper_value), ours, baseline, outcome.date or "-", outcome.device or "-",
            _seconds(outcome.seconds), note]


def format_text(outcomes: list[Outcome]) -> str:
    """A fixed-width table for the terminal."""
    rows = [list(COLUMNS)] + [_cells(o, markdown=False) for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for cells in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths)) + "  " + cells[-1])
    return "\n".join(line.rstrip() for line in lines)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(_escape(c) for c in cells) + " |"


def format_markdown(outcomes: list[Outcome]) -> str:
    """A Markdown table with the same columns as the text table."""
    lines = [markdown_row(list(COLUMNS)), "| " + " | ".join("---" for _ in COLUMNS) + " |"]
    lines += [markdown_row(_cells(o, markdown=True)) for o in outcomes]
    return "\n".join(lines)


def _split_markdown_row(line: str) -> list[str]:
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def update_results(path: str | Path, outcomes: list[Outcome], quick: bool) -> Path:
    """Write ``outcomes`` into the marked reproduce section of ``path`` (RESULTS.md).

    Rows of experiments not run this time are kept, so suites can be reproduced one at a
    time; the rest of the file is not touched. Without the markers a section is appended."""
    from convsuite.common import registry

    path = Path(path)
    mode = "quick" if quick else "full"
    begin, end = MARKER.format(mode=mode, edge="begin"), MARKER.format(mode=mode, edge="end")
    text = path.read_text() if path.exists() else ""
    if begin not in text or end not in text or text.index(begin) > text.index(end):
        command = "convsuite reproduce SUITE" + (" --quick" if quick else "") + " --update-results"
        text = text.rstrip("\n") + (f"\n\n## Paper results ({mode} mode)\n\nGenerated by `{command}`.\n\n"
                                    f"{begin}\n{end}\n")
    head, rest = text.split(begin, 1)
    old_block, tail = rest.split(end, 1)
    new_keys = {(o.suite, o.row.experiment) for o in outcomes}
    kept = []
    for line in old_block.splitlines():
        if not line.startswith("|"):
            continue
        cells = _split_markdown_row(line)
        if len(cells) != len(COLUMNS) or cells[0] in ("suite", "---"):
            continue
        if (cells[0], cells[3].strip("`")) not in new_keys:
            kept.append((cells[0], cells[3].strip("`"), cells[2], line))
    new = [(o.suite, o.row.experiment, o.row.setting, markdown_row(_cells(o, markdown=True))) for o in outcomes]
    suite_order = list(registry.SUITES)

    def order(item):
        suite, experiment, setting, _ = item
        suite_index = suite_order.index(suite) if suite in suite_order else len(suite_order)
        try:
            settings = [(r.experiment, r.setting) for r in paper_rows(suite)]
            row_index = settings.index((experiment, setting))
        except (ConvsuiteError, ValueError):
            row_index = 10_000
        return suite_index, row_index

    lines = [line for *_, line in sorted(kept + new, key=order)]
    table = "\n".join(format_markdown([]).splitlines() + lines)
    path.write_text(f"{head}{begin}\n{table}\n{end}{tail}")
    return path


# --------------------------------------------------------------------------- command


def run_command(args) -> int:
    """`convsuite reproduce`: print the table (text or JSON), write Markdown if asked.
    Exit status 1 when a row could not be reproduced (its note says why)."""
    import contextlib

    from convsuite.common import registry

    if args.suite:
        registry._check(args.suite)
    output = sys.stderr if args.json else sys.stdout
    with contextlib.redirect_stdout(output):  # training progress stays off a --json stdout
        outcomes = reproduce([args.suite] if args.suite else None, quick=args.quick, runs=args.runs,
                             only=args.only, train=not args.no_train)
    if args.json:
        print(json.dumps([o.as_dict() for o in outcomes], sort_keys=True), flush=True)
    else:
        print(format_text(outcomes), flush=True)
    if args.markdown:
        Path(args.markdown).write_text(format_markdown(outcomes) + "\n")
    if args.update_results:
        update_results(args.update_results, outcomes, args.quick)
    failed = [o for o in outcomes if o.status == "error"]
    if failed:
        print(f"convsuite: {len(failed)} of {len(outcomes)} rows could not be reproduced; their note says why",
              file=sys.stderr)
        return 1
    return 0
