"""Train classifiers on UCR/UEA sets over several seeds and tabulate them against the bars of issue 16.

Each (model, set, seed) is one run of the time-series suite's classify task, started from the
model's experiment (classify-ucr-all, classify-ucr-all-resnet, classify-ucr-all-inception) with
``--set`` overrides, one after another. Per-run accuracies go to a JSON file after every run; a
run already in it is skipped, so an interrupted table resumes (an interrupted run also resumes from
its checkpoints). The markdown table gives, per set and model, the mean +- standard deviation of
test accuracy over seeds, 1-NN Euclidean, the published accuracies and whether the bars hold:
within 3 points of the published accuracy or better, and at or above 1-NN.

    python scripts/ucr_table.py --models fcn,resnet,inception --seeds 0,1,2
    python scripts/ucr_table.py --models fcn --sets ArrowHead,GunPoint --set trainer.epochs=500
    python scripts/ucr_table.py --report-only
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

EXPERIMENT_FOR_MODEL = {"fcn": "classify-ucr-all", "resnet": "classify-ucr-all-resnet",
                        "inception": "classify-ucr-all-inception"}
MODEL_TITLES = {"fcn": "FCN", "resnet": "ResNet", "inception": "InceptionTime"}
MARGIN = 0.03  # "within 3 points of the published accuracy or better"


def run_key(model: str, dataset: str, seed: int) -> str:
    return f"{model}/{dataset}/{seed}"


def load_results(path: Path, overrides: list[str], adding: bool = True) -> dict:
    """The JSON of earlier runs; refuses to add runs to one made with other ``--set`` overrides."""
    if not path.exists():
        return {"overrides": list(overrides), "runs": {}}
    results = json.loads(path.read_text())
    if adding and results.get("overrides", []) != list(overrides):
        raise SystemExit(f"{path} holds runs made with --set {results.get('overrides')}, not {overrides}; "
                         "pass another --out or the same overrides")
    return results


def save_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(results, indent=1))
    partial.replace(path)


def train_one(model: str, dataset: str, seed: int, root: Path, overrides: list[str]) -> dict:
    """One classify run through the suite; the numbers the table needs."""
    import keras

    from convsuite.common.registry import make_experiment
    from convsuite.suites.timeseries import train as ts_train

    settings = [f"data.dataset={dataset}", f"trainer.seed={seed}",
                f"trainer.run_dir={root / model / dataset / f'seed{seed}'}", *overrides]
    experiment = make_experiment("timeseries", EXPERIMENT_FOR_MODEL[model], settings)
    start = time.perf_counter()
    summary = ts_train.train(experiment)
    keras.backend.clear_session()
    result = summary["datasets"][dataset]
    return {"accuracy": result["test_accuracy"], "nn1": result["nn1_euclidean_accuracy"],
            "chance": result["chance_accuracy"], "epochs": result["epochs"], "ensemble": summary["ensemble"],
            "member_accuracies": result.get("member_test_accuracies"), "seconds": round(time.perf_counter() - start, 1)}


def _mean_std(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, (math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0)


def table_rows(results: dict, models: list[str], datasets: list[str]) -> list[dict]:
    """One row per (set, model) with runs: mean, std, seeds, 1-NN, the reference and the two bars
    (None where a bar cannot be judged: no published accuracy)."""
    from convsuite.suites.timeseries.ucr import PUBLISHED_ACCURACY, published_accuracy

    rows = []
    for dataset in datasets:
        for model in models:
            runs = [r for key, r in results["runs"].items() if key.rsplit("/", 1)[0] == f"{model}/{dataset}"]
            if not runs:
                continue
            mean, std = _mean_std([r["accuracy"] for r in runs])
            nn1 = runs[0]["nn1"]
            reference = published_accuracy(model, dataset)
            rows.append({"dataset": dataset, "model": model, "mean": mean, "std": std, "seeds": len(runs), "nn1": nn1,
                         "published": PUBLISHED_ACCURACY.get(model, {}).get(dataset) or {},
                         "reference": reference,
                         "within_published": None if reference is None else mean >= reference[1] - MARGIN - 1e-12,
                         "at_least_nn1": mean >= nn1 - 1e-12})
    return rows


def _yes_no(value) -> str:
    return "-" if value is None else ("yes" if value else "**no**")


def markdown(rows: list[dict]) -> str:
    lines = ["| set | model | accuracy (mean +- std, seeds) | 1-NN Euclidean | published | within 3 points | >= 1-NN |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        reference = row["reference"][0] if row["reference"] else None
        published = ", ".join(f"{value:.3f} ({source}{'*' if source == reference else ''})"
                              for source, value in row["published"].items()) or "-"
        lines.append(f"| {row['dataset']} | {MODEL_TITLES.get(row['model'], row['model'])} | "
                     f"{row['mean']:.3f} +- {row['std']:.3f} ({row['seeds']}) | {row['nn1']:.3f} | {published} | "
                     f"{_yes_no(row['within_published'])} | {_yes_no(row['at_least_nn1'])} |")
    lines.append("\n*: the number the bar is judged against (a mean over runs before a single run, a paper before "
                 "the authors' later files).")
    for model in dict.fromkeys(row["model"] for row in rows):
        mine = [row for row in rows if row["model"] == model]
        judged = [row for row in mine if row["within_published"] is not None]
        lines.append(f"\n{MODEL_TITLES.get(model, model)}: within 3 points of published on "
                     f"{sum(row['within_published'] for row in judged)} of {len(judged)} sets with a published "
                     f"number; at or above 1-NN on {sum(row['at_least_nn1'] for row in mine)} of {len(mine)} sets.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from convsuite.suites.timeseries.ucr import UCR_BUNDLED

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="fcn", help="comma-separated: fcn, resnet, inception")
    parser.add_argument("--sets", default="all", help="comma-separated UCR set names; all = the 8 bundled sets")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated trainer seeds")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override for every run, e.g. trainer.epochs=500 (repeatable)")
    parser.add_argument("--runs", default="runs/ucr-table", help="folder of the runs' directories")
    parser.add_argument("--out", default="", help="the results JSON; default RUNS/results.json")
    parser.add_argument("--report-only", action="store_true", help="print the table of the JSON; train nothing")
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in EXPERIMENT_FOR_MODEL]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {', '.join(EXPERIMENT_FOR_MODEL)}")
    datasets = list(UCR_BUNDLED) if args.sets == "all" else [s.strip() for s in args.sets.split(",") if s.strip()]
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds {args.seeds!r} must be comma-separated integers, e.g. 0,1,2")
    root = Path(args.runs)
    out = Path(args.out) if args.out else root / "results.json"
    results = load_results(out, args.overrides, adding=not args.report_only)
    if not args.report_only:
        for model in models:
            for dataset in datasets:
                for seed in seeds:
                    key = run_key(model, dataset, seed)
                    if key in results["runs"]:
                        continue
                    print(f"== {key}", flush=True)
                    results["runs"][key] = train_one(model, dataset, seed, root, args.overrides)
                    save_results(out, results)
    print(markdown(table_rows(results, models, datasets)))
    return 0


if __name__ == "__main__":
    from convsuite.common.errors import ConvsuiteError

    try:
        sys.exit(main())
    except ConvsuiteError as error:
        sys.exit(f"error: {error}")
