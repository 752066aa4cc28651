"""Linear baselines: bag-of-words logistic regression and NB-SVM (Wang & Manning, 2012) on binary
n-grams of the training fold, and their evaluation on shared folds."""

import subprocess
import sys

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text.baselines import (
    NBSVM,
    BagOfWordsLogisticRegression,
    NgramFeatures,
    bag_of_words_logistic_regression,
    evaluate_baselines,
    nbsvm,
)

BAG_OF_WORDS = "bag_of_words_logistic_regression"
FILLERS = [f"w{i}" for i in range(40)]
POSITIVE_WORDS = ["great", "superb"]
NEGATIVE_WORDS = ["awful", "dull"]


def keyword_corpus(n, seed):
    """Sentences of random filler words with one class word inserted: label 1 for a positive word."""
    rng = np.random.default_rng(seed)
    token_lists, labels = [], []
    for _ in range(n):
        label = int(rng.integers(2))
        tokens = list(rng.choice(FILLERS, size=6))
        word = rng.choice(POSITIVE_WORDS if label else NEGATIVE_WORDS)
        tokens.insert(int(rng.integers(len(tokens) + 1)), str(word))
        token_lists.append([str(token) for token in tokens])
        labels.append(label)
    return token_lists, np.array(labels)


def word_order_corpus(pairs, seed):
    """Pairs of sentences with the same words: "alpha not beta" in one (label 1), "beta not alpha" in the
    other (label 0), the fillers around the phrase unchanged. Only the order tells the classes apart."""
    rng = np.random.default_rng(seed)
    token_lists, labels = [], []
    for _ in range(pairs):
        fillers = [str(token) for token in rng.choice(FILLERS, size=5)]
        at = int(rng.integers(len(fillers) + 1))
        for label, phrase in ((1, ["alpha", "not", "beta"]), (0, ["beta", "not", "alpha"])):
            token_lists.append(fillers[:at] + phrase + fillers[at:])
            labels.append(label)
    return token_lists, np.array(labels)


@pytest.fixture(scope="module")
def keyword_split():
    train_tokens, train_labels = keyword_corpus(200, seed=1)
    test_tokens, test_labels = keyword_corpus(100, seed=2)
    return train_tokens, train_labels, test_tokens, test_labels


def test_binary_features_mark_presence_of_words_and_bigrams_of_the_training_sentences():
    features = NgramFeatures(ngram=2).fit([["a", "b", "a"], ["b", "c"]])
    assert features.names == ["a", "a b", "b", "b a", "b c", "c"]
    x = features.transform([["a", "a", "b"], ["c", "b"]]).toarray()
    np.testing.assert_array_equal(x, [[1, 1, 1, 0, 0, 0], [0, 0, 1, 0, 0, 1]])  # presence, not counts; no "a a"


def test_a_word_seen_only_in_the_test_fold_has_no_column(keyword_split):
    train_tokens, train_labels, _, _ = keyword_split
    features = NgramFeatures(ngram=2).fit(train_tokens)
    assert features.column("unseen") is None and features.column("great") is not None
    assert features.transform([["unseen", "words"]]).nnz == 0
    model = BagOfWordsLogisticRegression().fit(train_tokens, train_labels)
    assert model.model.coef_.shape[1] == len(model.features.names)
    assert "unseen" not in model.features.names
    assert model.predict([["unseen", "words"], []]).shape == (2,)


def test_both_baselines_reach_high_accuracy_when_a_few_words_decide_the_class(keyword_split):
    train_tokens, train_labels, test_tokens, test_labels = keyword_split
    logistic = bag_of_words_logistic_regression(train_tokens, train_labels, test_tokens)
    svm = nbsvm(train_tokens, train_labels, test_tokens)
    assert np.mean(logistic == test_labels) >= 0.95
    assert np.mean(svm == test_labels) >= 0.95


def test_predictions_are_the_given_labels_and_probabilities_sum_to_one(keyword_split):
    train_tokens, train_labels, test_tokens, test_labels = keyword_split
    names = np.array(["neg", "pos"])
    model = BagOfWordsLogisticRegression().fit(train_tokens, names[train_labels])
    probabilities = model.predict_proba(test_tokens)
    assert probabilities.shape == (len(test_tokens), 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert np.mean(model.predict(test_tokens) == names[test_labels]) >= 0.95
    assert set(nbsvm(train_tokens, names[train_labels], test_tokens)) <= {"neg", "pos"}


def test_nbsvm_log_count_ratio_matches_the_paper_on_a_hand_computed_corpus():
    model = NBSVM(ngram=1).fit([["good"], ["good", "film"], ["bad", "film"]], [1, 1, 0])
    assert model.features.names == ["bad", "film", "good"]
    p = 1 + np.array([0, 1, 2])  # alpha + counts over the positive sentences
    q = 1 + np.array([1, 1, 0])
    np.testing.assert_allclose(model.ratio, np.log((p / p.sum()) / (q / q.sum())))


def test_nbsvm_ratio_is_positive_for_a_positive_word_and_negative_for_a_negative_word(keyword_split):
    train_tokens, train_labels, _, _ = keyword_split
    model = NBSVM().fit(train_tokens, train_labels)
    ratio = dict(zip(model.features.names, model.ratio))
    assert all(ratio[word] > 1.0 for word in POSITIVE_WORDS)
    assert all(ratio[word] < -1.0 for word in NEGATIVE_WORDS)
    assert abs(ratio["w0"]) < 1.0


def test_nbsvm_interpolates_svm_weights_towards_their_mean_magnitude(keyword_split):
    train_tokens, train_labels, _, _ = keyword_split
    raw = NBSVM(beta=1.0).fit(train_tokens, train_labels)
    interpolated = NBSVM(beta=0.25).fit(train_tokens, train_labels)
    expected = 0.75 * np.abs(raw.weights).mean() + 0.25 * raw.weights
    np.testing.assert_allclose(interpolated.weights, expected)
    assert interpolated.bias == raw.bias


def test_baselines_are_deterministic(keyword_split):
    train_tokens, train_labels, test_tokens, _ = keyword_split
    first = NBSVM().fit(train_tokens, train_labels)
    second = NBSVM().fit(train_tokens, train_labels)
    np.testing.assert_array_equal(first.weights, second.weights)
    np.testing.assert_array_equal(first.decision_function(test_tokens), second.decision_function(test_tokens))
    np.testing.assert_array_equal(
        BagOfWordsLogisticRegression().fit(train_tokens, train_labels).predict_proba(test_tokens),
        BagOfWordsLogisticRegression().fit(train_tokens, train_labels).predict_proba(test_tokens))


def test_bag_of_words_is_at_chance_when_only_word_order_decides():
    train_tokens, train_labels = word_order_corpus(100, seed=3)
    test_tokens, test_labels = word_order_corpus(50, seed=4)
    unigram = BagOfWordsLogisticRegression(ngram=1).fit(train_tokens, train_labels)
    predicted = unigram.predict(test_tokens)
    np.testing.assert_array_equal(predicted[0::2], predicted[1::2])  # each pair has the same bag of words
    assert np.mean(predicted == test_labels) == 0.5
    np.testing.assert_allclose(unigram.predict_proba(test_tokens), 0.5, atol=0.02)
    # bigrams see the order ("alpha not" against "beta not"), so the task is learnable
    assert np.mean(bag_of_words_logistic_regression(train_tokens, train_labels, test_tokens, ngram=2)
                   == test_labels) >= 0.95
    assert np.mean(nbsvm(train_tokens, train_labels, test_tokens, ngram=2) == test_labels) >= 0.95


def test_evaluate_baselines_runs_both_on_the_same_folds():
    token_lists, labels = keyword_corpus(150, seed=5)
    order = np.random.default_rng(0).permutation(150)
    folds = [(np.setdiff1d(order, part), part) for part in np.array_split(order, 3)]
    results = evaluate_baselines(token_lists, labels, folds)
    assert set(results) == {BAG_OF_WORDS, "nbsvm"}
    for method, result in results.items():
        assert len(result["accuracies"]) == 3
        assert result["mean"] == pytest.approx(np.mean(result["accuracies"]))
        assert result["std"] == pytest.approx(np.std(result["accuracies"]))
        assert result["mean"] >= 0.9
    train_index, test_index = folds[1]
    fold_predictions = nbsvm([token_lists[i] for i in train_index], labels[train_index],
                             [token_lists[i] for i in test_index])
    assert results["nbsvm"]["accuracies"][1] == np.mean(fold_predictions == labels[test_index])
    assert evaluate_baselines(token_lists, labels, folds) == results


def test_evaluate_baselines_with_more_classes_runs_logistic_regression_only():
    token_lists = [["red", "w1"], ["green", "w2"], ["blue", "w1"]] * 10
    labels = np.array([0, 1, 2] * 10)
    folds = [(np.arange(0, 24), np.arange(24, 30))]
    results = evaluate_baselines(token_lists, labels, folds, methods=[BAG_OF_WORDS])
    assert results[BAG_OF_WORDS]["accuracies"] == [1.0]
    with pytest.raises(ConvsuiteError, match="NB-SVM here is binary.*3 classes"):
        evaluate_baselines(token_lists, labels, folds)


FOLD = [(np.array([0, 1]), np.array([2]))]
TOKENS = [["good"], ["bad"], ["good"]]


@pytest.mark.parametrize("call, message", [
    (lambda: bag_of_words_logistic_regression("good film", [1], [["good"]]), "not one str"),
    (lambda: bag_of_words_logistic_regression(["good film", "bad"], [1, 0], [["good"]]), "tokenize each"),
    (lambda: bag_of_words_logistic_regression([["good"], ["bad"]], [1], [["good"]]), "one label per sentence"),
    (lambda: bag_of_words_logistic_regression([["good"], ["bad"]], [1, 1], [["good"]]), "at least 2"),
    (lambda: bag_of_words_logistic_regression([[], []], [1, 0], [["good"]]), "no tokens"),
    (lambda: bag_of_words_logistic_regression(TOKENS[:2], [1, 0], [["good"]], ngram=0), "ngram is 0"),
    (lambda: bag_of_words_logistic_regression(TOKENS[:2], [1, 0], [["good"]], C=0), "C is 0"),
    (lambda: nbsvm(TOKENS[:2], [1, 0], [["good"]], alpha=-1), "alpha is -1"),
    (lambda: nbsvm(TOKENS[:2], [1, 0], [["good"]], beta=2), "beta is 2"),
    (lambda: nbsvm(TOKENS, [0, 1, 2], [["good"]]), "NB-SVM here is binary"),
    (lambda: NBSVM().predict([["good"]]), "not fitted"),
    (lambda: BagOfWordsLogisticRegression().predict([["good"]]), "not fitted"),
    (lambda: NgramFeatures().transform([["good"]]), "not fitted"),
    (lambda: evaluate_baselines(TOKENS, [1, 0, 1], []), "no folds"),
    (lambda: evaluate_baselines(TOKENS, [1, 0, 1], [(np.array([0, 1]), np.array([1]))]), "in both"),
    (lambda: evaluate_baselines(TOKENS, [1, 0, 1], [(np.array([0, 1]), np.array([5]))]), "outside the 3"),
    (lambda: evaluate_baselines(TOKENS, [1, 0, 1], [(np.array([0, 1]), np.array([], dtype=int))]), "non-empty"),
    (lambda: evaluate_baselines(TOKENS, [1, 0, 1], [5]), "not a .train_indices"),
    (lambda: evaluate_baselines(TOKENS, [1, 0], FOLD), "one label per sentence"),
    (lambda: evaluate_baselines(TOKENS, [1, 0, 1], FOLD, methods=["cnn"]), "not all known"),
])
def test_invalid_inputs_raise_convsuite_errors_that_name_the_values(call, message):
    with pytest.raises(ConvsuiteError, match=message):
        call()


def test_module_imports_neither_keras_nor_tensorflow():
    code = ("import sys, convsuite.suites.text.baselines; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
