"""Kim's CNN sees word order, a bag of words does not: the synthetic negation task (fixed seed, held-out quarter)."""

import keras
import numpy as np

from convsuite.suites.text.baselines import bag_of_words_logistic_regression
from convsuite.suites.text.datasets import synthetic_negation_task
from convsuite.suites.text.models import kim_cnn
from convsuite.suites.text.tokenizer import Vocabulary, tokenize


def test_cnn_rand_learns_the_negation_task_where_a_bag_of_words_stays_near_chance():
    data = synthetic_negation_task(2000, seed=0)
    tokens = [tokenize(text) for text in data.texts]
    train, test = np.arange(1500), np.arange(1500, 2000)
    vocabulary = Vocabulary.build([tokens[i] for i in train])  # the training sentences only
    ids = vocabulary.encode_batch(tokens, min_length=5)
    labels = data.labels

    bag = bag_of_words_logistic_regression([tokens[i] for i in train], labels[train], [tokens[i] for i in test])
    bag_accuracy = float(np.mean(bag == labels[test]))

    keras.utils.set_random_seed(0)
    model = kim_cnn(len(vocabulary), 2, variant="rand", seed=0)  # the paper's 3/4/5 x 100 maps, 300-d, dropout 0.5
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(ids[train], labels[train], batch_size=50, epochs=5, verbose=0)
    cnn_accuracy = float(model.evaluate(ids[test], labels[test], verbose=0)[1])

    assert bag_accuracy < 0.6, bag_accuracy
    assert cnn_accuracy >= 0.95, cnn_accuracy
