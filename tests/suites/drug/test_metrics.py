"""Virtual-screening metrics: hand-worked screens first, then perfect/worst/tied/random rankings, RDKit's
independent BEDROC and enrichment as references, and target-clustered folds that must never leak a cluster."""

import itertools
import math

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.drug.metrics import (
    METRIC_NAMES,
    bedroc,
    bedroc_random,
    enrichment_curve,
    enrichment_factor,
    log_auc,
    log_auc_random,
    per_target_metrics,
    pr_auc,
    roc_auc,
    screening_metrics,
    target_clustered_folds,
)
from tests.requirements import require


def ranked(n: int, active_ranks: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores for n molecules where the actives sit at the given 1-based ranks."""
    labels = np.zeros(n, dtype=int)
    labels[np.asarray(active_ranks) - 1] = 1
    return labels, np.arange(n, 0, -1).astype(float)  # molecule i has rank i + 1


# --- a hand-worked screen: 10 molecules, actives at ranks 1 and 3 -------------------------------------------

def test_hand_worked_ten_molecules():
    labels, scores = ranked(10, [1, 3])
    # The rank-1 active beats all 8 decoys, the rank-3 active 7 of them: 15 of 16 pairs.
    assert roc_auc(labels, scores) == pytest.approx(15 / 16)
    # Precision at the actives: 1/1 and 2/3.
    assert pr_auc(labels, scores) == pytest.approx((1 + 2 / 3) / 2)
    # Top 10% = 1 molecule, 1 hit; hit rate 1 against 2/10 overall.
    assert enrichment_factor(labels, scores, 0.10) == pytest.approx(5.0)
    # Top 30% = 3 molecules, 2 hits: (2/3) / (2/10).
    assert enrichment_factor(labels, scores, 0.30) == pytest.approx(10 / 3)
    # ceil(0.25 * 10) = 3 molecules.
    assert enrichment_factor(labels, scores, 0.25) == pytest.approx(10 / 3)
    # ROC: TPR 0.5 from FPR 0 until the first decoy at FPR 1/8, then 1; log axis from 0.001 to 1 (3 decades).
    raw = (0.5 * (math.log10(1 / 8) - math.log10(0.001)) + 1.0 * (0 - math.log10(1 / 8))) / 3
    assert log_auc(labels, scores, adjusted=False) == pytest.approx(raw)
    assert log_auc(labels, scores) == pytest.approx(raw - 0.999 / math.log(1000))


def test_bedroc_hand_worked_against_the_formula():
    labels, scores = ranked(10, [1, 3])
    n, actives, alpha = 10, 2, 20.0
    weight = math.exp(-alpha * 1 / n) + math.exp(-alpha * 3 / n)
    rie = weight / (actives / n * (1 - math.exp(-alpha)) / (math.exp(alpha / n) - 1))
    ra = actives / n
    expected = (rie * ra * math.sinh(alpha / 2) / (math.cosh(alpha / 2) - math.cosh(alpha / 2 - alpha * ra))
                + 1 / (1 - math.exp(alpha * (1 - ra))))
    assert bedroc(labels, scores) == pytest.approx(expected)
    assert 0.85 < expected < 0.95  # sanity of the hand formula itself: near the top but not perfect


def test_bedroc_and_enrichment_match_rdkit_on_random_rankings():
    rdkit_scoring = require("rdkit.ML.Scoring.Scoring", "drug")
    rng = np.random.default_rng(1)
    for n, n_actives in [(50, 5), (400, 12)]:
        labels = np.zeros(n, dtype=int)
        labels[rng.choice(n, n_actives, replace=False)] = 1
        scores = rng.normal(size=n)
        ordered = [[label] for label in labels[np.argsort(-scores)]]
        for alpha in (20.0, 80.5):
            assert bedroc(labels, scores, alpha) == pytest.approx(rdkit_scoring.CalcBEDROC(ordered, 0, alpha))
        for fraction in (0.02, 0.1):
            reference = rdkit_scoring.CalcEnrichment(ordered, 0, [fraction])[0]
            assert enrichment_factor(labels, scores, fraction) == pytest.approx(reference)


# --- perfect and worst rankings ----------------------------------------------------------------------------

@pytest.mark.parametrize("n, n_actives", [(10, 2), (200, 10), (1000, 25)])
def test_perfect_and_worst_rankings(n, n_actives):
    best_labels, scores = ranked(n, list(range(1, n_actives + 1)))
    worst_labels, _ = ranked(n, list(range(n - n_actives + 1, n + 1)))
    assert roc_auc(best_labels, scores) == 1.0 and roc_auc(worst_labels, scores) == 0.0
    assert pr_auc(best_labels, scores) == pytest.approx(1.0)
    assert bedroc(best_labels, scores) == pytest.approx(1.0, abs=1e-9)
    assert bedroc(worst_labels, scores) == pytest.approx(0.0, abs=1e-9)
    # At most min(N / actives, N / top): all top places are hits while actives last.
    for fraction in (0.01, 0.05, 0.2):
        top = math.ceil(fraction * n)
        best = min(top, n_actives) / top * n / n_actives
        assert enrichment_factor(best_labels, scores, fraction) == pytest.approx(best)
        assert enrichment_factor(worst_labels, scores, fraction) == pytest.approx(
            max(0, top - (n - n_actives)) / top * n / n_actives)
    assert log_auc(best_labels, scores, adjusted=False) == pytest.approx(1.0)
    assert log_auc(best_labels, scores) == pytest.approx(1.0 - log_auc_random())
    # Worst: TPR stays 0 until the last decoy (FPR 1), so the raw area is 0.
    assert log_auc(worst_labels, scores, adjusted=False) == pytest.approx(0.0)


def test_log_auc_random_value():
    # (1 - m) / ln(1 / m): the published adjustment for min_fpr = 0.001 is 0.14462.
    assert log_auc_random(0.001) == pytest.approx(0.14462, abs=5e-6)
    assert log_auc_random(0.01) == pytest.approx(0.99 / math.log(100))
    # Numerical check of the derivation: mean of f over a log-uniform f on [m, 1].
    m = 0.001
    grid = np.logspace(math.log10(m), 0, 200_001)
    assert np.trapezoid(grid, np.log10(grid)) / 3 == pytest.approx(log_auc_random(m), rel=1e-6)


# --- ties ---------------------------------------------------------------------------------------------------

def test_constant_scorer_is_exactly_random():
    labels = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0] * 10)
    scores = np.full(len(labels), 3.5)
    assert roc_auc(labels, scores) == 0.5
    for fraction in (0.01, 0.05, 0.1, 0.37, 1.0):
        assert enrichment_factor(labels, scores, fraction) == pytest.approx(1.0, abs=1e-12)
    assert log_auc(labels, scores) == pytest.approx(0.0, abs=1e-12)
    assert log_auc(labels, scores, adjusted=False) == pytest.approx(log_auc_random())
    assert bedroc(labels, scores) == pytest.approx(bedroc_random(30, 100))
    assert pr_auc(labels, scores) == pytest.approx(0.3)
    screened, found = enrichment_curve(labels, scores)
    np.testing.assert_allclose(found, screened)


def test_tie_straddling_the_cut_off_counts_its_expected_hits():
    # Ranks: active alone on top, then a tie of 4 holding 1 active, then 5 decoys. Top 30% = 3 molecules:
    # 1 sure hit + 2 of the 4 tied places * 1/4 active each = 1.5 expected hits.
    labels = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    scores = np.array([9.0, 5, 5, 5, 5, 1, 1, 1, 1, 1])
    assert enrichment_factor(labels, scores, 0.3) == pytest.approx((1.5 / 3) / (2 / 10))
    # Input order inside the tie must not matter.
    assert enrichment_factor(labels[[0, 4, 3, 2, 1, 5, 6, 7, 8, 9]], scores, 0.3) == pytest.approx(2.5)
    # ROC: the tied active beats 5 decoys and ties 3 (half each): (8 + 5 + 1.5) / 16.
    assert roc_auc(labels, scores) == pytest.approx(14.5 / 16)


def test_tied_bedroc_is_the_mean_over_orders_of_the_tie():
    labels = np.array([0, 1, 0, 1, 0, 0, 0, 0])
    scores = np.array([7.0, 7, 7, 3, 3, 3, 1, 0])
    # Enumerate every order of the tied molecules (both tie groups) and average the untied BEDROC.
    values = []
    for first in itertools.permutations(range(3)):
        for second in itertools.permutations(range(3, 6)):
            order = list(first) + list(second) + [6, 7]
            values.append(bedroc(labels[order], -np.arange(8.0)))
    assert bedroc(labels, scores) == pytest.approx(np.mean(values))


# --- random rankings ---------------------------------------------------------------------------------------

def test_random_rankings_average_to_the_random_values():
    rng = np.random.default_rng(7)
    n, n_actives = 2000, 40
    labels = np.zeros(n, dtype=int)
    labels[:n_actives] = 1
    results = np.array([[roc_auc(labels, s), log_auc(labels, s), bedroc(labels, s), enrichment_factor(labels, s, 0.05)]
                        for s in rng.random((200, n))])
    mean = results.mean(axis=0)
    assert mean[0] == pytest.approx(0.5, abs=0.01)
    assert mean[1] == pytest.approx(0.0, abs=0.01)  # adjusted logAUC; a perfect screen scores 0.855
    assert mean[2] == pytest.approx(bedroc_random(n_actives, n), abs=0.01)
    assert mean[3] == pytest.approx(1.0, abs=0.1)


def test_better_rankings_score_higher():
    n = 100
    previous = None
    for second_active_rank in (90, 50, 20, 5, 2):  # one active fixed at rank 1, the other moving up
        labels, scores = ranked(n, [1, second_active_rank])
        values = (roc_auc(labels, scores), bedroc(labels, scores), log_auc(labels, scores))
        if previous is not None:
            assert all(now > before for now, before in zip(values, previous))
        previous = values


# --- aggregates --------------------------------------------------------------------------------------------

def test_screening_metrics_keys_and_prefix():
    labels, scores = ranked(10, [1, 3])
    metrics = screening_metrics(labels, scores, prefix="test_")
    assert set(metrics) == {"test_" + k for k in (*METRIC_NAMES, "n_actives", "n_decoys")}
    assert metrics["test_ef1"] == pytest.approx(5.0) and metrics["test_ef5"] == pytest.approx(5.0)
    assert metrics["test_n_actives"] == 2 and metrics["test_n_decoys"] == 8


def test_per_target_metrics_means_only_targets_with_both_classes():
    a_labels, a_scores = ranked(10, [1, 3])  # ROC 15/16
    b_labels, b_scores = ranked(10, [10])  # ROC 0
    targets = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 3)
    labels = np.concatenate([a_labels, b_labels, [0, 0, 0]])
    scores = np.concatenate([a_scores, b_scores, [1.0, 2.0, 3.0]])
    result = per_target_metrics(targets, labels, scores)
    assert set(result["per_target"]) == {"a", "b", "c"}
    assert math.isnan(result["per_target"]["c"]["roc_auc"])
    assert result["mean"]["roc_auc"] == pytest.approx((15 / 16 + 0.0) / 2)
    assert result["mean"]["ef1"] == pytest.approx((5.0 + 0.0) / 2)
    assert set(result["mean"]) == set(METRIC_NAMES)


def test_enrichment_curve_hand_worked():
    labels, scores = ranked(5, [1, 4])
    screened, found = enrichment_curve(labels, scores)
    np.testing.assert_allclose(screened, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(found, [0, 0.5, 0.5, 0.5, 1.0, 1.0])


def test_one_class_gives_nan():
    for labels in (np.zeros(5), np.ones(5)):
        metrics = screening_metrics(labels, np.arange(5.0))
        assert all(math.isnan(metrics[key]) for key in METRIC_NAMES)


@pytest.mark.parametrize("labels, scores, message", [
    ([0, 1, 1], [0.1, 0.2], "3 labels but 2 scores"),
    ([0, 2, 1], [0.1, 0.2, 0.3], "got [2]"),
    ([0, 1, 1], [0.1, float("nan"), 0.3], "must be finite"),
    ([0, 1, 1], [0.1, float("inf"), 0.3], "at index [1]"),
    ([], [], "no molecules"),
])
def test_invalid_inputs_name_the_problem(labels, scores, message):
    with pytest.raises(ConvsuiteError, match=message.replace("[", r"\[").replace("]", r"\]")):
        roc_auc(labels, scores)


def test_invalid_parameters():
    labels, scores = ranked(10, [1, 3])
    with pytest.raises(ConvsuiteError, match="outside"):
        enrichment_factor(labels, scores, 0.0)
    with pytest.raises(ConvsuiteError, match="min_fpr"):
        log_auc(labels, scores, min_fpr=1.0)
    with pytest.raises(ConvsuiteError, match="alpha"):
        bedroc(labels, scores, alpha=0.0)


# --- target-clustered folds --------------------------------------------------------------------------------

def fold_data(seed: int = 3):
    rng = np.random.default_rng(seed)
    names = [f"t{i}" for i in range(12)]
    targets = np.repeat(names, rng.integers(5, 60, size=12))
    rng.shuffle(targets)
    clusters = {name: f"c{i // 3 if i < 9 else i}" for i, name in enumerate(names)}  # 3 triples, 3 singletons
    return targets, clusters


@pytest.mark.parametrize("use_clusters", [True, False])
@pytest.mark.parametrize("folds", [2, 3, 5])
def test_folds_cover_every_index_once_and_never_leak_a_cluster(use_clusters, folds):
    targets, clusters = fold_data()
    split = target_clustered_folds(targets, clusters if use_clusters else None, folds, seed=1)
    cluster_of = (lambda t: clusters[t]) if use_clusters else (lambda t: t)
    assert len(split) == folds
    all_test = np.concatenate([test for _, test in split])
    np.testing.assert_array_equal(np.sort(all_test), np.arange(len(targets)))
    for train, test in split:
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == len(targets)
        train_clusters = {cluster_of(t) for t in targets[train]}
        test_clusters = {cluster_of(t) for t in targets[test]}
        assert not train_clusters & test_clusters
        assert not set(targets[train]) & set(targets[test])


def test_folds_are_balanced_and_seeded():
    targets = np.repeat([f"t{i}" for i in range(20)], 10)  # equal sizes: greedy gives 4 targets per fold
    split = target_clustered_folds(targets, None, 5, seed=0)
    assert [len(test) for _, test in split] == [40] * 5
    again = target_clustered_folds(targets, None, 5, seed=0)
    other = target_clustered_folds(targets, None, 5, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(split, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(split, other))
    # Largest first: a cluster of 100 alone in one fold, the four of 25 sharing the other.
    targets = np.array(["big"] * 100 + [f"s{i}" for i in range(4) for _ in range(25)])
    sizes = sorted(len(test) for _, test in target_clustered_folds(targets, None, 2))
    assert sizes == [100, 100]


def test_folds_errors():
    targets, clusters = fold_data()
    with pytest.raises(ConvsuiteError, match="6 target clusters cannot fill 7 folds"):
        target_clustered_folds(targets, clusters, 7)
    with pytest.raises(ConvsuiteError, match="no cluster"):
        target_clustered_folds(targets, {"t0": "c0"}, 2)
    with pytest.raises(ConvsuiteError, match="at least 2"):
        target_clustered_folds(targets, None, 1)
