"""The sentence-classification CNN of Kim (2014) as a Keras model.

Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP 2014: word embeddings,
one convolution per window size (3, 4, 5 words x 100 feature maps), ReLU, max-over-time pooling,
dropout 0.5 and a softmax whose weight vectors are rescaled to an l2 norm of at most 3. The four
variants differ only in the embeddings: "rand" (random, trained), "static" (pre-trained, frozen),
"non-static" (pre-trained, fine-tuned) and "multichannel" (two copies of the pre-trained matrix,
one frozen and one fine-tuned; every filter is applied to both and the results added).

Average and k-max pooling are the alternatives Zhang & Wallace compared ("A Sensitivity Analysis
of (and Practitioners' Guide to) Convolutional Neural Networks for Sentence Classification", 2017).

The vocabulary (the words of the token ids) travels inside the saved ``.keras`` file through
``VocabularyAsset``, so a restored model always reads token ids the way it was trained to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from convsuite.common.errors import ConvsuiteError

_register = keras.saving.register_keras_serializable(package="convsuite")

VARIANTS = ("rand", "static", "non-static", "multichannel")
POOLINGS = ("max", "average", "kmax")
DEFAULT_EMBEDDING_DIM = 300
RAND_EMBEDDING_RANGE = 0.25  # Kim's U[-a, a] for vectors not pre-trained
PADDING_ID = 0
VOCABULARY_FILE = "vocabulary.json"


@_register
class VocabularyAsset(layers.Layer):
    """Passes the token ids through unchanged and carries the vocabulary (the word of each id).

    The words are not in ``get_config`` (a vocabulary can hold a million words): Keras saves them
    as an asset file inside the ``.keras`` archive (``save_assets``) and puts them back when the
    model loads (``load_assets``)."""

    def __init__(self, vocabulary: Sequence[str] = (), lowercase: bool = True, class_names: Sequence[str] = (),
                 **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = vocabulary
        self.lowercase = bool(lowercase)  # how the training sentences were tokenized
        self.class_names = [str(name) for name in class_names]  # the label of each output, when known

    @property
    def vocabulary(self) -> list[str]:
        return list(self._words)

    @vocabulary.setter
    def vocabulary(self, words: Sequence[str]):
        words = tuple(words)
        if not all(isinstance(word, str) for word in words):
            raise ConvsuiteError(f"a vocabulary is a list of str; got {sorted({type(w).__name__ for w in words})}")
        # A plain attribute name the layer's tracker ignores: strings need no tracking.
        object.__setattr__(self, "_words", words)

    def call(self, token_ids):
        return token_ids

    def compute_output_shape(self, input_shape):
        return input_shape

    def save_assets(self, dir_path):
        with open(os.path.join(dir_path, VOCABULARY_FILE), "w", encoding="utf-8") as file:
            json.dump(list(self._words), file, ensure_ascii=False)

    def load_assets(self, dir_path):
        with open(os.path.join(dir_path, VOCABULARY_FILE), encoding="utf-8") as file:
            self.vocabulary = json.load(file)

    def get_config(self):  # the words are an asset, not configuration
        return {**super().get_config(), "lowercase": self.lowercase, "class_names": list(self.class_names)}


@_register
class SentenceConvolution(layers.Layer):
    """One window size of Kim's convolution: ``feature_maps`` filters of ``window`` words, ReLU.

    Takes a list of embedding channels ([batch, length, dim] each) and the token ids. Each filter
    is applied to every channel and the results added before the bias and ReLU (Kim's multichannel
    rule; with one channel this is a plain narrow convolution).

    With ``mask_padding`` the padding tokens' vectors are zeroed and the sentence end is padded with
    ``window - 1`` zero vectors, so output position i is the window starting at token i and the
    features of real positions do not depend on how much padding follows."""

    def __init__(self, window: int, feature_maps: int, mask_padding: bool = False, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.window = int(window)
        self.feature_maps = int(feature_maps)
        self.mask_padding = bool(mask_padding)
        self.seed = int(seed)

    def _check_length(self, length):
        if not self.mask_padding and length is not None and length < self.window:
            raise ConvsuiteError(f"sentences of {length} tokens are shorter than the convolution window "
                                 f"{self.window}; pad them to at least {self.window} or set mask_padding=True")

    def build(self, channels_shape, token_ids_shape=None):
        length, dim = channels_shape[0][1], channels_shape[0][-1]
        self._check_length(length)
        self.kernel = self.add_weight(shape=(self.window, dim, self.feature_maps),
                                      initializer=keras.initializers.GlorotUniform(seed=self.seed), name="kernel")
        self.bias = self.add_weight(shape=(self.feature_maps,), initializer="zeros", name="bias")

    def call(self, channels, token_ids=None):
        kernel = ops.cast(self.kernel, self.compute_dtype)
        summed = None
        for channel in channels:
            self._check_length(channel.shape[1])  # static here on JAX and in TensorFlow's first trace
            if self.mask_padding:
                keep = ops.cast(ops.not_equal(token_ids, PADDING_ID), channel.dtype)
                channel = channel * ops.expand_dims(keep, -1)
                channel = ops.pad(channel, [[0, 0], [0, self.window - 1], [0, 0]])
            features = ops.conv(channel, kernel, strides=1, padding="valid")
            summed = features if summed is None else summed + features
        return ops.relu(summed + ops.cast(self.bias, summed.dtype))

    def compute_output_shape(self, channels_shape, token_ids_shape=None):
        batch, length = channels_shape[0][0], channels_shape[0][1]
        if length is not None and not self.mask_padding:
            length = length - self.window + 1
        return (batch, length, self.feature_maps)

    def get_config(self):
        return {**super().get_config(), "window": self.window, "feature_maps": self.feature_maps,
                "mask_padding": self.mask_padding, "seed": self.seed}


@_register
class OverTimePooling(layers.Layer):
    """Pools each feature map over the sentence: "max" (Kim), "average" or "kmax" (the k largest
    values in sentence order; Zhang & Wallace 2017 compared the three).

    With ``mask_padding`` positions whose window starts on a padding token are left out, so padding
    never wins the max, dilutes the average or fills the k-max (a sentence with fewer than k real
    positions gets zeros in the missing slots). Kim did not mask: padding vectors took part."""

    def __init__(self, mode: str = "max", k: int = 1, mask_padding: bool = False, **kwargs):
        super().__init__(**kwargs)
        if mode not in POOLINGS:
            raise ConvsuiteError(f"pooling {mode!r} is not one of {', '.join(POOLINGS)}; pick one of those")
        if int(k) < 1:
            raise ConvsuiteError(f"k-max pooling needs k >= 1, got k={k}")
        self.mode = mode
        self.k = int(k) if mode == "kmax" else 1
        self.mask_padding = bool(mask_padding)

    def call(self, features, token_ids=None):
        if not self.mask_padding:
            if self.mode == "max":
                return ops.max(features, axis=1)
            if self.mode == "average":
                return ops.mean(features, axis=1)
            return self._kmax(features)
        valid = ops.not_equal(token_ids[:, : ops.shape(features)[1]], PADDING_ID)
        valid = ops.expand_dims(valid, -1)  # [batch, positions, 1]
        if self.mode == "average":
            weights = ops.cast(valid, features.dtype)
            return ops.sum(features * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        lowest = ops.cast(-1e9, features.dtype)  # ReLU features are >= 0: any real value beats it
        pooled = ops.max(ops.where(valid, features, lowest), axis=1) if self.mode == "max" else \
            self._kmax(ops.where(valid, features, lowest))
        return ops.where(pooled <= lowest / 2, ops.zeros_like(pooled), pooled)

    def _kmax(self, features):
        by_map = ops.transpose(features, (0, 2, 1))  # [batch, maps, positions]
        _, positions = ops.top_k(by_map, self.k, sorted=True)
        kept = ops.take_along_axis(by_map, ops.sort(positions, axis=-1), axis=-1)  # in sentence order
        return ops.reshape(kept, (-1, ops.shape(by_map)[1] * self.k))

    def compute_output_shape(self, features_shape, token_ids_shape=None):
        return (features_shape[0], features_shape[-1] * self.k)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "k": self.k, "mask_padding": self.mask_padding}


def _checked_embeddings(variant, vocab_size, embedding_dim, embeddings):
    if variant == "rand":
        if embeddings is not None:
            raise ConvsuiteError("variant 'rand' learns its embeddings from random ones; drop the embeddings "
                                 "matrix or pick 'static', 'non-static' or 'multichannel'")
        return None, DEFAULT_EMBEDDING_DIM if embedding_dim is None else int(embedding_dim)
    if embeddings is None:
        raise ConvsuiteError(f"variant {variant!r} needs a pre-trained embeddings matrix [vocab_size, dim] "
                             f"(vocab_size={vocab_size}); pass embeddings= or use variant 'rand'")
    embeddings = np.asarray(embeddings, dtype="float32")
    if embeddings.ndim != 2 or embeddings.shape[0] != vocab_size:
        raise ConvsuiteError(f"the embeddings matrix has shape {embeddings.shape} but the vocabulary has "
                             f"{vocab_size} words; pass a [{vocab_size}, dim] matrix")
    if embedding_dim is not None and embeddings.shape[1] != embedding_dim:
        raise ConvsuiteError(f"embedding_dim={embedding_dim} but the embeddings matrix has "
                             f"{embeddings.shape[1]} columns; make them agree or leave embedding_dim unset")
    return embeddings, embeddings.shape[1]


def kim_cnn(vocab_size: int, num_classes: int, *, variant: str = "rand", embedding_dim: int | None = None,
            embeddings: np.ndarray | None = None, windows: Sequence[int] = (3, 4, 5), feature_maps: int = 100,
            dropout: float = 0.5, max_norm: float | None = 3.0, pooling: str = "max", k: int = 1,
            mask_padding: bool = False, vocabulary: Sequence[str] | None = None, lowercase: bool = True,
            class_names: Sequence[str] | None = None, seed: int = 0) -> keras.Model:
    """Kim's (2014) CNN-rand / -static / -non-static / -multichannel on int32 token ids [batch, length].

    Id 0 is padding. ``embedding_dim`` defaults to 300 for "rand" and to the matrix's width for the
    pre-trained variants. ``max_norm`` bounds the l2 norm of each class's softmax weight vector
    (the output kernel's columns, hence ``MaxNorm(axis=0)``); ``None`` turns it off. Without
    ``mask_padding`` (Kim's setting) inputs must be at least ``max(windows)`` tokens long and the
    padding vectors take part in the convolution and the pooling. ``vocabulary`` (the word of each
    id), ``lowercase`` (how sentences were tokenized) and ``class_names`` are saved inside the
    ``.keras`` file; read them back with ``model_tokenizer`` and ``model_class_names``."""
    if variant not in VARIANTS:
        raise ConvsuiteError(f"variant {variant!r} is not one of {', '.join(VARIANTS)}; pick one of those")
    if vocab_size < 2 or num_classes < 2:
        raise ConvsuiteError(f"kim_cnn needs vocab_size >= 2 and num_classes >= 2, got {vocab_size} and "
                             f"{num_classes}")
    windows = tuple(int(w) for w in windows)
    if not windows or min(windows) < 1 or int(feature_maps) < 1:
        raise ConvsuiteError(f"windows {windows} and feature_maps {feature_maps} must be positive (and windows "
                             f"not empty), e.g. windows=(3, 4, 5), feature_maps=100")
    if vocabulary is not None and len(vocabulary) != vocab_size:
        raise ConvsuiteError(f"the vocabulary has {len(vocabulary)} words but vocab_size={vocab_size}; "
                             f"pass vocab_size=len(vocabulary)")
    if class_names is not None and len(class_names) != num_classes:
        raise ConvsuiteError(f"{len(class_names)} class names for num_classes={num_classes}; give one name per class")
    matrix, embedding_dim = _checked_embeddings(variant, vocab_size, embedding_dim, embeddings)

    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    ids = VocabularyAsset(vocabulary or (), lowercase=lowercase, class_names=class_names or (),
                          name="vocabulary")(token_ids)

    def embedding(name, trainable):
        initializer = keras.initializers.RandomUniform(-RAND_EMBEDDING_RANGE, RAND_EMBEDDING_RANGE, seed=seed)
        return layers.Embedding(vocab_size, embedding_dim, embeddings_initializer=initializer,
                                trainable=trainable, name=name)

    if variant == "multichannel":
        embedding_layers = [embedding("static_embedding", False), embedding("non_static_embedding", True)]
    else:
        embedding_layers = [embedding("embedding", variant != "static")]
    channels = [layer(ids) for layer in embedding_layers]
    if matrix is not None:  # set, not an initializer: the matrix belongs in the weights, not the config
        for layer in embedding_layers:
            layer.embeddings.assign(matrix)

    pooled = []
    for index, window in enumerate(windows):
        features = SentenceConvolution(window, feature_maps, mask_padding=mask_padding, seed=seed + 1 + index,
                                       name=f"convolution_{window}")(channels, ids)
        pooled.append(OverTimePooling(pooling, k, mask_padding=mask_padding, name=f"pooling_{window}")(features, ids))
    x = layers.Concatenate(name="features")(pooled) if len(pooled) > 1 else pooled[0]
    x = layers.Dropout(dropout, seed=seed, name="dropout")(x)
    constraint = keras.constraints.MaxNorm(max_norm, axis=0) if max_norm is not None else None
    outputs = layers.Dense(num_classes, activation="softmax", kernel_constraint=constraint,
                           kernel_initializer=keras.initializers.GlorotUniform(seed=seed), name="classes")(x)
    return keras.Model(token_ids, outputs, name=f"kim_cnn_{variant.replace('-', '_')}")


def _vocabulary_layer(model: keras.Model) -> VocabularyAsset:
    for layer in model.layers:
        if isinstance(layer, VocabularyAsset):
            return layer
    raise ConvsuiteError(f"model {model.name!r} has no VocabularyAsset layer; build it with kim_cnn")


def model_vocabulary(model: keras.Model) -> list[str]:
    """The words of the token ids, as saved with the model (empty if it was built without them)."""
    return _vocabulary_layer(model).vocabulary


def model_tokenizer(model: keras.Model):
    """The ``Vocabulary`` (words and case setting) the model was trained with, from the model itself."""
    from convsuite.suites.text.tokenizer import Vocabulary

    layer = _vocabulary_layer(model)
    if not layer.vocabulary:
        raise ConvsuiteError(f"model {model.name!r} was built without its vocabulary; build it with "
                             "kim_cnn(..., vocabulary=vocabulary.words) so it can read text")
    return Vocabulary(layer.vocabulary, lowercase=layer.lowercase)


def model_class_names(model: keras.Model) -> list[str]:
    """The label of each output as saved with the model; "0", "1", ... when it was built without them."""
    names = _vocabulary_layer(model).class_names
    return list(names) if names else [str(i) for i in range(int(model.output_shape[-1]))]


MODELS = {"kim_cnn": kim_cnn}


def build_model(experiment, vocabulary=20000, num_classes: int = 2, class_names: Sequence[str] | None = None,
                embeddings: np.ndarray | None = None) -> keras.Model:
    """The experiment's model for a training fold's ``vocabulary`` (a ``tokenizer.Vocabulary``, or a
    number of ids for a model that carries no words, as in benchmarks); ``embeddings`` is the
    [vocabulary size, dim] pre-trained matrix of the static variants."""
    m = experiment.model
    if m.name not in MODELS:
        raise ConvsuiteError(f"model.name {m.name!r} is not one of {', '.join(MODELS)}")
    if isinstance(vocabulary, int):
        size, words, lowercase = vocabulary, None, True
    else:
        size, words, lowercase = len(vocabulary), vocabulary.words, vocabulary.lowercase
    return MODELS[m.name](
        size, num_classes, variant=m.variant,
        embedding_dim=m.embedding_dim if m.variant == "rand" else None, embeddings=embeddings,
        windows=tuple(m.windows), feature_maps=m.feature_maps, dropout=m.dropout, max_norm=m.max_norm or None,
        pooling=m.pooling, k=m.k, mask_padding=m.mask_padding, vocabulary=words,
        lowercase=lowercase, class_names=class_names, seed=experiment.trainer.seed)
