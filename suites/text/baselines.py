"""Linear baselines on binary n-gram features: bag-of-words logistic regression and NB-SVM.

Kim (2014) compares his CNNs with these models; running them on the very folds the CNN uses makes
the comparison fair. NB-SVM is the model of Wang & Manning, "Baselines and Bigrams: Simple, Good
Sentiment and Topic Classification" (ACL 2012), written here from the paper's description.

Every feature comes from the training fold only: an n-gram seen only in the test fold has no
column, as it would have none for a deployed model.

Imports no Keras (numpy, scipy.sparse and scikit-learn only).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sparse
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from convsuite.common.errors import ConvsuiteError

METHODS = ("bag_of_words_logistic_regression", "nbsvm")  # the keys of evaluate_baselines' results
_MAX_ITER = 10_000


def _check_token_lists(token_lists, what: str) -> list:
    if isinstance(token_lists, str):
        raise ConvsuiteError(f"{what} must be lists of tokens (tokenize each sentence), not one str")
    token_lists = list(token_lists)
    for tokens in token_lists:
        if isinstance(tokens, str):
            raise ConvsuiteError(f"{what} must be lists of tokens, got the str {tokens[:40]!r}; "
                                 "tokenize each sentence first")
    return token_lists


def _check_ngram(ngram) -> int:
    if isinstance(ngram, bool) or not isinstance(ngram, (int, np.integer)) or ngram < 1:
        raise ConvsuiteError(f"ngram is {ngram!r}; give an int of 1 or more (1: words, 2: words and bigrams)")
    return int(ngram)


def _check_positive(name: str, value) -> float:
    if not np.isfinite(value) or value <= 0:
        raise ConvsuiteError(f"{name} is {value!r}; give a number above 0")
    return float(value)


class NgramFeatures:
    """Binary (presence) n-gram features: 1 where an n-gram of length 1..``ngram`` occurs, else 0.

    ``fit`` learns the columns from the training sentences (sorted n-grams, words joined by a
    space in `names`); ``transform`` gives a CSR float64 matrix in which unseen n-grams are dropped.
    """

    def __init__(self, ngram: int = 1):
        self.ngram = _check_ngram(ngram)
        self.names: list[str] | None = None
        self._columns: dict[tuple, int] | None = None

    def _ngrams(self, tokens: Sequence[str]):
        tokens = tuple(tokens)
        for n in range(1, self.ngram + 1):
            for start in range(len(tokens) - n + 1):
                yield tokens[start:start + n]

    def fit(self, token_lists) -> "NgramFeatures":
        token_lists = _check_token_lists(token_lists, "the training sentences")
        seen = set()
        for tokens in token_lists:
            seen.update(self._ngrams(tokens))
        if not seen:
            raise ConvsuiteError(f"the {len(token_lists)} training sentences have no tokens, so there are "
                                 "no features; give non-empty tokenized sentences")
        ordered = sorted(seen)
        self._columns = {gram: column for column, gram in enumerate(ordered)}
        self.names = [" ".join(gram) for gram in ordered]
        return self

    def transform(self, token_lists) -> sparse.csr_matrix:
        if self._columns is None:
            raise ConvsuiteError("these n-gram features are not fitted; call fit on the training sentences first")
        token_lists = _check_token_lists(token_lists, "the sentences")
        indptr, indices = [0], []
        for tokens in token_lists:
            columns = {self._columns[gram] for gram in self._ngrams(tokens) if gram in self._columns}
            indices.extend(sorted(columns))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        return sparse.csr_matrix((data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
                                 shape=(len(token_lists), len(self._columns)))

    def column(self, *words: str) -> int | None:
        """The column of the n-gram ``words`` (``column("not", "good")``), None when training never saw it."""
        if self._columns is None:
            raise ConvsuiteError("these n-gram features are not fitted; call fit on the training sentences first")
        return self._columns.get(tuple(words))


def _prepare(train_tokens, train_labels):
    train_tokens = _check_token_lists(train_tokens, "the training sentences")
    labels = np.asarray(train_labels)
    if labels.ndim != 1 or len(labels) != len(train_tokens):
        raise ConvsuiteError(f"there are {len(train_tokens)} training sentences but labels of shape "
                             f"{labels.shape}; give one label per sentence")
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ConvsuiteError(f"the training labels hold {len(classes)} class(es) {classes.tolist()!r}; a "
                             "classifier needs at least 2 (check the fold or the labels)")
    return train_tokens, labels, classes


class BagOfWordsLogisticRegression:
    """Logistic regression (L2, scikit-learn's lbfgs) on binary n-gram features of the training fold."""

    def __init__(self, ngram: int = 1, C: float = 1.0, seed: int = 0):
        self.features = NgramFeatures(ngram)
        self.C = _check_positive("C", C)
        self.seed = seed
        self.classes_: np.ndarray | None = None
        self.model: LogisticRegression | None = None

    def fit(self, train_tokens, train_labels) -> "BagOfWordsLogisticRegression":
        train_tokens, labels, self.classes_ = _prepare(train_tokens, train_labels)
        x = self.features.fit(train_tokens).transform(train_tokens)
        self.model = LogisticRegression(C=self.C, max_iter=_MAX_ITER, random_state=self.seed)
        self.model.fit(x, labels)
        return self

    def _check_fitted(self):
        if self.model is None:
            raise ConvsuiteError("this bag-of-words model is not fitted; call fit(train_tokens, train_labels) first")

    def predict_proba(self, token_lists) -> np.ndarray:
        """Class probabilities ``[n, classes]``, columns in the order of ``classes_``."""
        self._check_fitted()
        return self.model.predict_proba(self.features.transform(token_lists))

    def predict(self, token_lists) -> np.ndarray:
        self._check_fitted()
        return self.model.predict(self.features.transform(token_lists))


class NBSVM:
    """NB-SVM of Wang & Manning, "Baselines and Bigrams: Simple, Good Sentiment and Topic
    Classification" (ACL 2012): a linear SVM on binary n-grams scaled by Naive Bayes log-count ratios.

    With f the binary n-gram vector of a sentence, p = alpha + sum of f over the positive sentences
    and q likewise over the negative ones, the log-count ratio is r = log((p/|p|_1) / (q/|q|_1)).
    The SVM (scikit-learn's LinearSVC: L2 penalty, squared hinge loss, as in the paper) is trained
    on r * f; its weights are then interpolated towards their mean magnitude,
    w' = (1 - beta) mean(|w|) + beta w, and the bias kept. The paper's settings are alpha = 1,
    C = 1, beta = 0.25, and bigrams were its best features for short sentences.

    Binary only, as in the paper: the positive class is the larger of the two labels
    (``classes_[1]``), so r > 0 for an n-gram that points to it.
    """

    def __init__(self, ngram: int = 2, alpha: float = 1.0, C: float = 1.0, beta: float = 0.25, seed: int = 0):
        self.features = NgramFeatures(ngram)
        self.alpha = _check_positive("alpha", alpha)
        self.C = _check_positive("C", C)
        if not np.isfinite(beta) or not 0 <= beta <= 1:
            raise ConvsuiteError(f"beta is {beta!r}; give a number in [0, 1] (the paper uses 0.25; 1 keeps "
                                 "the SVM weights as they are)")
        self.beta = float(beta)
        self.seed = seed
        self.classes_: np.ndarray | None = None
        self.ratio: np.ndarray | None = None
        self.weights: np.ndarray | None = None
        self.bias: float | None = None

    def fit(self, train_tokens, train_labels) -> "NBSVM":
        train_tokens, labels, classes = _prepare(train_tokens, train_labels)
        if len(classes) != 2:
            raise ConvsuiteError(f"NB-SVM here is binary, as in Wang & Manning (2012), but the labels hold "
                                 f"{len(classes)} classes {classes.tolist()[:10]!r}; use the bag-of-words "
                                 "logistic regression for more classes")
        self.classes_ = classes
        x = self.features.fit(train_tokens).transform(train_tokens)
        positive = labels == classes[1]
        p = self.alpha + np.asarray(x[positive].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(x[~positive].sum(axis=0)).ravel()
        self.ratio = np.log((p / p.sum()) / (q / q.sum()))
        svm = LinearSVC(C=self.C, max_iter=_MAX_ITER, random_state=self.seed)
        svm.fit(x @ sparse.diags(self.ratio), positive.astype(np.int64))
        w = svm.coef_.ravel()
        self.weights = (1 - self.beta) * np.abs(w).mean() + self.beta * w
        self.bias = float(svm.intercept_[0])
        return self

    def decision_function(self, token_lists) -> np.ndarray:
        """w'.(r * f) + b per sentence: above 0 means the positive class ``classes_[1]``."""
        if self.weights is None:
            raise ConvsuiteError("this NB-SVM is not fitted; call fit(train_tokens, train_labels) first")
        x = self.features.transform(token_lists)
        return x @ (self.ratio * self.weights) + self.bias

    def predict(self, token_lists) -> np.ndarray:
        return self.classes_[(self.decision_function(token_lists) > 0).astype(np.int64)]


def bag_of_words_logistic_regression(train_tokens, train_labels, test_tokens, *, ngram: int = 1,
                                     C: float = 1.0, seed: int = 0) -> np.ndarray:
    """Labels of ``test_tokens`` predicted by `BagOfWordsLogisticRegression` fitted on the training fold."""
    return BagOfWordsLogisticRegression(ngram=ngram, C=C, seed=seed).fit(train_tokens, train_labels) \
        .predict(test_tokens)


def nbsvm(train_tokens, train_labels, test_tokens, *, ngram: int = 2, alpha: float = 1.0, C: float = 1.0,
          beta: float = 0.25, seed: int = 0) -> np.ndarray:
    """Labels of ``test_tokens`` predicted by `NBSVM` (Wang & Manning, 2012) fitted on the training fold."""
    return NBSVM(ngram=ngram, alpha=alpha, C=C, beta=beta, seed=seed).fit(train_tokens, train_labels) \
        .predict(test_tokens)


def _check_folds(folds, n: int) -> list:
    checked = []
    for number, fold in enumerate(folds):
        try:
            train_index, test_index = fold
        except (TypeError, ValueError):
            raise ConvsuiteError(f"fold {number} is not a (train_indices, test_indices) pair; give a list of "
                                 "such pairs") from None
        train_index, test_index = np.asarray(train_index), np.asarray(test_index)
        for name, index in (("training", train_index), ("test", test_index)):
            if index.ndim != 1 or len(index) == 0 or not np.issubdtype(index.dtype, np.integer):
                raise ConvsuiteError(f"fold {number} has {name} indices of shape {index.shape} and dtype "
                                     f"{index.dtype}; give a non-empty 1-D array of ints")
            if index.min() < 0 or index.max() >= n:
                raise ConvsuiteError(f"fold {number} has {name} indices from {index.min()} to {index.max()}, "
                                     f"outside the {n} sentences; give indices in 0..{n - 1}")
        shared = np.intersect1d(train_index, test_index)
        if len(shared):
            raise ConvsuiteError(f"fold {number} has {len(shared)} sentences (such as {int(shared[0])}) in both "
                                 "its training and test indices; a test sentence must not be trained on")
        checked.append((train_index, test_index))
    if not checked:
        raise ConvsuiteError("there are no folds; give a list of (train_indices, test_indices) pairs")
    return checked


def evaluate_baselines(token_lists, labels, folds, *, methods: Sequence[str] = METHODS, seed: int = 0) -> dict:
    """Test accuracy of each baseline on each fold, all methods on the same folds.

    ``folds`` is a list of ``(train_indices, test_indices)``. Returns ``{method: {"accuracies": [per
    fold], "mean": ..., "std": ...}}`` with ``std`` the population standard deviation over folds
    (ddof=0). Methods: ``"bag_of_words_logistic_regression"`` (unigrams, C=1) and ``"nbsvm"``
    (bigrams, the paper's settings); NB-SVM is binary, so leave it out of ``methods`` for more classes.
    """
    token_lists = _check_token_lists(token_lists, "the sentences")
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(token_lists):
        raise ConvsuiteError(f"there are {len(token_lists)} sentences but labels of shape {labels.shape}; "
                             "give one label per sentence")
    methods = [methods] if isinstance(methods, str) else list(methods)
    unknown = [method for method in methods if method not in METHODS]
    if unknown or not methods:
        raise ConvsuiteError(f"methods {methods!r} are not all known; choose among {list(METHODS)!r}")
    folds = _check_folds(folds, len(token_lists))
    predictors = {"bag_of_words_logistic_regression": bag_of_words_logistic_regression, "nbsvm": nbsvm}
    results = {}
    for method in methods:
        accuracies = []
        for train_index, test_index in folds:
            predicted = predictors[method]([token_lists[i] for i in train_index], labels[train_index],
                                           [token_lists[i] for i in test_index], seed=seed)
            accuracies.append(float(np.mean(predicted == labels[test_index])))
        results[method] = {"accuracies": accuracies, "mean": float(np.mean(accuracies)),
                           "std": float(np.std(accuracies))}
    return results
