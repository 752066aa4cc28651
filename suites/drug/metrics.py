"""Virtual-screening metrics and target-clustered cross-validation folds.

A screen ranks a library of actives and decoys by score; these metrics say how early the actives come out.
ROC AUC and PR AUC come from scikit-learn; the early-recognition metrics are written here:

- Enrichment factor, EF(x) = (actives in the top x of the ranking / size of the top x) / (actives / library size),
  as reported for DUD and DUD-E (Huang, Shoichet & Irwin 2006, J. Med. Chem. 49, 6789; Mysinger et al. 2012).
- BEDROC (Truchon & Bayly 2007, J. Chem. Inf. Model. 47, 488; eq. 36), with the RIE of their eq. 18.
- logAUC (Mysinger & Shoichet 2010, J. Chem. Inf. Model. 50, 1561): the ROC curve read on a log10 FPR axis
  from ``min_fpr`` to 1, normalised to [0, 1] and optionally adjusted by the random curve's value.

Ties in score never depend on input order: EF, BEDROC and the enrichment curve take the expected value over random
orders of the tied molecules, ROC AUC counts a tied pair one half, logAUC follows the ROC curve's straight line
across a tie group, and PR AUC (scikit-learn) treats a tie group as one threshold. A scorer that cannot tell
molecules apart is therefore scored as random: ROC AUC 0.5, EF 1, BEDROC = bedroc_random, adjusted logAUC 0.

Every metric is NaN for a set without both actives and decoys: none of them means anything there.

``target_clustered_folds`` builds cross-validation folds in which a target, and every target of its cluster
(e.g. by sequence identity), is never both trained on and tested on, so that a result is not inflated by
near-duplicate proteins across the split.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from convsuite.common.errors import ConvsuiteError

METRIC_NAMES = ("roc_auc", "pr_auc", "ef1", "ef5", "bedroc20", "log_auc")


def binary_labels(labels) -> np.ndarray:
    """1-D labels as a 0/1 int64 array, or a ConvsuiteError naming the first values that are not 0 or 1."""
    labels = np.asarray(labels)
    try:
        numeric = labels.astype(np.float64)
    except (TypeError, ValueError):
        raise ConvsuiteError(f"labels must be 0 (decoy) or 1 (active), got values like {labels[:3].tolist()}") from None
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        raise ConvsuiteError(f"labels must be 0 (decoy) or 1 (active), got {labels[bad][:3].tolist()} "
                             f"at index {np.flatnonzero(bad)[:3].tolist()}")
    return numeric.astype(np.int64)


def _validate(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    """Labels as 0/1 int array and scores as finite float array of the same length, or a ConvsuiteError."""
    labels = np.asarray(labels)
    scores = np.asarray(scores)
    if labels.ndim != 1 or scores.ndim != 1:
        raise ConvsuiteError(f"labels and scores must be 1-D (got shapes {labels.shape} and {scores.shape}); "
                             f"give one label and one score per molecule")
    if len(labels) != len(scores):
        raise ConvsuiteError(f"{len(labels)} labels but {len(scores)} scores; give one score per labelled molecule")
    if len(labels) == 0:
        raise ConvsuiteError("no molecules to score (empty labels and scores); give at least one active and decoy")
    numeric_labels = binary_labels(labels)
    try:
        scores = scores.astype(np.float64)
    except (TypeError, ValueError):
        raise ConvsuiteError(f"scores must be numbers, got values like {scores[:3].tolist()}") from None
    bad = ~np.isfinite(scores)
    if bad.any():
        raise ConvsuiteError(f"scores must be finite, got {scores[bad][:3].tolist()} at index "
                             f"{np.flatnonzero(bad)[:3].tolist()}; drop or fix those molecules")
    return numeric_labels, scores


def _both_classes(labels: np.ndarray) -> bool:
    n_actives = int(labels.sum())
    return 0 < n_actives < len(labels)


def _tie_groups(labels: np.ndarray, scores: np.ndarray):
    """Groups of equal score, best first: (start position, size, actives in the group) per group."""
    unique_desc, inverse = np.unique(-scores, return_inverse=True)  # group 0 holds the highest score
    sizes = np.bincount(inverse, minlength=len(unique_desc))
    actives = np.bincount(inverse, weights=labels, minlength=len(unique_desc))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    return starts, sizes, actives, inverse


def _expected_hits(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Expected actives among the top k of the ranking, k = 0..N, over random orders of tied molecules.

    Inside a tie group of size g holding a actives, each of the first j places drawn from it holds an active with
    probability a/g, so the count grows linearly across the group.
    """
    starts, sizes, actives, _ = _tie_groups(labels, scores)
    before = np.concatenate(([0.0], np.cumsum(actives)[:-1]))
    k = np.arange(len(labels) + 1)
    group = np.clip(np.searchsorted(starts, k, side="right") - 1, 0, len(starts) - 1)
    return before[group] + actives[group] * (k - starts[group]) / sizes[group]


def _expected_rank_weights(labels: np.ndarray, scores: np.ndarray, alpha: float) -> float:
    """Sum over actives of exp(-alpha * rank / N), rank 1 = best, averaged over random orders of tied molecules.

    A tie group occupying ranks s+1..s+g gives each of its a actives the mean weight of those ranks,
    exp(-alpha (s+1) / N) (1 - exp(-alpha g / N)) / (g (1 - exp(-alpha / N))).
    """
    starts, sizes, actives, _ = _tie_groups(labels, scores)
    n = len(labels)
    step = alpha / n
    mean_weight = np.exp(-step * (starts + 1)) * -np.expm1(-step * sizes) / (sizes * -math.expm1(-step))
    return float((actives * mean_weight).sum())


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve (ties count one half); NaN without both actives and decoys."""
    labels, scores = _validate(labels, scores)
    if not _both_classes(labels):
        return float("nan")
    return float(roc_auc_score(labels, scores))


def pr_auc(labels, scores) -> float:
    """Average precision (the step-wise area under the precision-recall curve); NaN without both classes."""
    labels, scores = _validate(labels, scores)
    if not _both_classes(labels):
        return float("nan")
    return float(average_precision_score(labels, scores))


def _top_count(fraction: float, n: int) -> int:
    if not 0.0 < fraction <= 1.0:
        raise ConvsuiteError(f"enrichment fraction {fraction} is outside (0, 1]; give e.g. 0.01 for EF at 1%")
    # The small margin keeps 0.07 * 100 = 7.000000000000001 at 7 molecules.
    return max(1, math.ceil(fraction * n - 1e-9))


def enrichment_factor(labels, scores, fraction: float) -> float:
    """EF at ``fraction`` of the library: the hit rate in the top ceil(fraction * N) over the overall hit rate.

    A tie group straddling the cut-off contributes its expected actives (actives in the group times the share of
    the group that fits above the cut-off), so a constant scorer gets EF = 1 exactly. The maximum is
    min(N / actives, N / top size).
    """
    labels, scores = _validate(labels, scores)
    if not _both_classes(labels):
        return float("nan")
    n = len(labels)
    n_top = _top_count(fraction, n)
    hits = _expected_hits(labels, scores)[n_top]
    return float((hits / n_top) / (labels.sum() / n))


def bedroc_random(n_actives: int, n_total: int, alpha: float = 20.0) -> float:
    """BEDROC's expected value for a random ranking (RIE = 1 in Truchon & Bayly's eq. 36)."""
    return _bedroc_from_rie(1.0, n_actives / n_total, alpha)


def _bedroc_from_rie(rie: float, ratio: float, alpha: float) -> float:
    """Truchon & Bayly eq. 36: BEDROC as a linear map of RIE that sends the best ranking to 1 and the worst to 0."""
    scale = ratio * math.sinh(alpha / 2.0) / (math.cosh(alpha / 2.0) - math.cosh(alpha / 2.0 - alpha * ratio))
    return rie * scale + 1.0 / (1.0 - math.exp(alpha * (1.0 - ratio)))


def bedroc(labels, scores, alpha: float = 20.0) -> float:
    """Boltzmann-enhanced discrimination of ROC (Truchon & Bayly 2007, eq. 36), in [0, 1].

    Each active at rank r (1 = best) weighs exp(-alpha * r / N); alpha = 20 puts 80% of the weight on the top 8%.
    Ties take the expected weight over random orders of the tied molecules (not the weight of their mean rank,
    which would score a constant scorer as almost the worst ranking), so a constant scorer gets bedroc_random.
    """
    labels, scores = _validate(labels, scores)
    if not alpha > 0:
        raise ConvsuiteError(f"BEDROC alpha must be positive, got {alpha}; the usual value is 20")
    if not _both_classes(labels):
        return float("nan")
    n = len(labels)
    n_actives = int(labels.sum())
    weight_sum = _expected_rank_weights(labels, scores, alpha)
    # RIE (eq. 18): the weight sum over its expectation for actives placed uniformly at random.
    random_sum = n_actives / n * (1.0 - math.exp(-alpha)) / math.expm1(alpha / n)
    return float(_bedroc_from_rie(weight_sum / random_sum, n_actives / n, alpha))


def log_auc_random(min_fpr: float = 0.001) -> float:
    """The unadjusted logAUC of a random ranking (TPR = FPR): (1 - min_fpr) / ln(1 / min_fpr).

    Derivation: integral of f d(log10 f) from min_fpr to 1 is (1 - min_fpr) / ln 10; dividing by the axis length
    log10(1 / min_fpr) gives (1 - min_fpr) / ln(1 / min_fpr) = 0.14462 for min_fpr = 0.001.
    """
    _check_min_fpr(min_fpr)
    return (1.0 - min_fpr) / math.log(1.0 / min_fpr)


def _check_min_fpr(min_fpr: float) -> None:
    if not 0.0 < min_fpr < 1.0:
        raise ConvsuiteError(f"logAUC min_fpr {min_fpr} is outside (0, 1); the usual value is 0.001")


def log_auc(labels, scores, min_fpr: float = 0.001, adjusted: bool = True) -> float:
    """Area under the ROC curve on a log10 FPR axis from ``min_fpr`` to 1, over the axis length (Mysinger & Shoichet
    2010); a fraction, not their percentage. ``adjusted`` subtracts the random curve's value, so random is 0 and
    perfect is 1 - log_auc_random(min_fpr).

    The curve is integrated exactly: where TPR is flat (no ties) a segment [f1, f2] adds tpr * log10(f2 / f1);
    a tie group's diagonal segment, TPR = t1 + s (f - f1), adds the exact integral of that line against d(log10 f).
    """
    labels, scores = _validate(labels, scores)
    _check_min_fpr(min_fpr)
    if not _both_classes(labels):
        return float("nan")
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    f1, f2, t1, t2 = fpr[:-1], fpr[1:], tpr[:-1], tpr[1:]
    keep = (f2 > min_fpr) & (f2 > f1)  # vertical segments and those left of the axis add nothing
    f1, f2, t1, t2 = f1[keep], f2[keep], t1[keep], t2[keep]
    slope = (t2 - t1) / (f2 - f1)
    start = np.maximum(f1, min_fpr)
    t_start = t1 + slope * (start - f1)
    # integral of (t_start + slope (f - start)) df / (f ln 10) from start to f2
    area = (t_start * np.log(f2 / start) + slope * ((f2 - start) - start * np.log(f2 / start))) / math.log(10.0)
    value = float(area.sum() / math.log10(1.0 / min_fpr))
    return value - log_auc_random(min_fpr) if adjusted else value


def screening_metrics(labels, scores, prefix: str = "") -> dict:
    """ROC AUC, PR AUC, EF at 1% and 5%, BEDROC (alpha 20), adjusted logAUC and the class counts of one screen."""
    labels, scores = _validate(labels, scores)
    values = {
        "roc_auc": roc_auc(labels, scores),
        "pr_auc": pr_auc(labels, scores),
        "ef1": enrichment_factor(labels, scores, 0.01),
        "ef5": enrichment_factor(labels, scores, 0.05),
        "bedroc20": bedroc(labels, scores, 20.0),
        "log_auc": log_auc(labels, scores),
        "n_actives": int(labels.sum()),
        "n_decoys": int(len(labels) - labels.sum()),
    }
    return {prefix + key: value for key, value in values.items()}


def per_target_metrics(targets, labels, scores) -> dict:
    """Screening metrics per target, and their means over the targets that have both actives and decoys.

    Returns {"per_target": {target: screening_metrics}, "mean": {metric: mean}}; a mean is NaN when no target
    has both classes. Targets are screened separately because DUD-E-style benchmarks rank each target's library
    on its own; pooling would reward a model that only learns which target a molecule belongs to.
    """
    labels, scores = _validate(labels, scores)
    targets = np.asarray(targets).astype(str)
    if targets.shape != labels.shape:
        raise ConvsuiteError(f"{targets.size} targets but {len(labels)} labels; give one target per molecule")
    names, inverse = np.unique(targets, return_inverse=True)
    per_target = {str(name): screening_metrics(labels[inverse == i], scores[inverse == i])
                  for i, name in enumerate(names)}
    scored = [m for m in per_target.values() if m["n_actives"] > 0 and m["n_decoys"] > 0]
    mean = {key: float(np.mean([m[key] for m in scored])) if scored else float("nan") for key in METRIC_NAMES}
    return {"per_target": per_target, "mean": mean}


def enrichment_curve(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of the library screened (0..1, N + 1 points) against the fraction of actives found by then.

    Ties are the expected value over random orders of tied molecules (a straight line across a tie group).
    """
    labels, scores = _validate(labels, scores)
    n_actives = labels.sum()
    if n_actives == 0:
        raise ConvsuiteError(f"no actives among {len(labels)} molecules; an enrichment curve needs at least one")
    screened = np.arange(len(labels) + 1) / len(labels)
    return screened, _expected_hits(labels, scores) / n_actives


def target_clustered_folds(targets, clusters: Mapping[str, str] | None, folds: int,
                           seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds over examples, (train indices, test indices) per fold, that keep each cluster of
    targets whole: every example of every target of a cluster is in the same test fold and in no fold's training
    set alongside it.

    ``clusters`` maps each target to its cluster name (None: each target is its own cluster); every target must be
    mapped. Clusters are shuffled with ``seed``, then placed largest first (by example count) on the fold with the
    fewest examples so far, which balances the folds' sizes.
    """
    targets = np.asarray(targets).astype(str)
    if targets.ndim != 1 or len(targets) == 0:
        raise ConvsuiteError(f"targets must be a non-empty 1-D list of target names (got shape {targets.shape})")
    if not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ConvsuiteError(f"folds must be an integer of at least 2, got {folds!r}")
    names, inverse = np.unique(targets, return_inverse=True)
    if clusters is None:
        cluster_of_target = [str(name) for name in names]
    else:
        missing = [str(name) for name in names if str(name) not in clusters]
        if missing:
            raise ConvsuiteError(f"{len(missing)} targets have no cluster (e.g. {missing[:5]}); add them to the "
                                 f"cluster map, each in its own cluster if it resembles no other target")
        cluster_of_target = [str(clusters[str(name)]) for name in names]
    cluster_names, target_cluster = np.unique(cluster_of_target, return_inverse=True)
    if len(cluster_names) < folds:
        raise ConvsuiteError(f"{len(cluster_names)} target clusters cannot fill {folds} folds; use at most "
                             f"{len(cluster_names)} folds or more targets")
    example_cluster = target_cluster[inverse]
    counts = np.bincount(example_cluster, minlength=len(cluster_names))
    order = np.random.default_rng(seed).permutation(len(cluster_names))
    order = order[np.argsort(-counts[order], kind="stable")]  # largest first; the shuffle breaks size ties
    load = np.zeros(folds, dtype=np.int64)
    fold_of_cluster = np.empty(len(cluster_names), dtype=np.int64)
    for cluster in order:
        lightest = int(np.argmin(load))
        fold_of_cluster[cluster] = lightest
        load[lightest] += counts[cluster]
    example_fold = fold_of_cluster[example_cluster]
    return [(np.flatnonzero(example_fold != fold), np.flatnonzero(example_fold == fold)) for fold in range(folds)]


__all__: Sequence[str] = (
    "METRIC_NAMES", "roc_auc", "pr_auc", "enrichment_factor", "bedroc", "bedroc_random", "log_auc",
    "log_auc_random", "screening_metrics", "per_target_metrics", "enrichment_curve", "target_clustered_folds",
)
