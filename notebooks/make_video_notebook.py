"""Write notebooks/video_lrcn.ipynb, the video suite's notebook.

    python notebooks/make_video_notebook.py            # write the notebook, no outputs
    python notebooks/make_video_notebook.py --execute  # then run it in quick mode (CONVSUITE_QUICK=1,
                                                       # in a temporary directory) and save the outputs

The notebook reproduces, at small scale, Donahue et al. (2015): LRCN, a per-frame CNN read by an LSTM,
on the generated motion set, whose labels are defined by motion alone, beside the single-frame CNN,
LRCN fed shuffled frames and C3D (Tran et al. 2015). It shows clips of every motion read back from the
video files, a clip and its time reversal, the test and direction accuracies against chance, LRCN's
learning curves and confusion matrix, the saliency over a clip's frames, and predictions on video files.
"""

from __future__ import annotations

from pathlib import Path

from notebook_builder import NotebookBuilder

BUILDER = NotebookBuilder(Path(__file__).resolve().parent / "video_lrcn.ipynb")
md, code = BUILDER.md, BUILDER.code

md(r"""
# LRCN: action recognition from the order of frames

Reproduces, at small scale, **Donahue et al. (2015)**, *Long-term Recurrent Convolutional Networks for Visual
Recognition and Description* (CVPR 2015): a CNN runs on every frame of a clip, an LSTM reads the frame features in
order, a softmax gives a prediction at every time step (trained with a loss at every frame) and the clip's score is
the average of its frames' predictions. Beside it: the paper's **single-frame** baseline (the same CNN, no LSTM,
frame predictions averaged), **LRCN fed shuffled frames** (a control), and a **C3D**-style network, **Tran et al.
(2015)**, *Learning Spatiotemporal Features with 3D Convolutional Networks* (ICCV 2015): homogeneous 3x3x3
convolutions over space and time.

**The motion set.** No labelled action video installs offline, so `suites/video/motion.py` draws one and writes it
as real Motion-JPEG `.avi` files: a textured object over a background photograph moves **left/right/up/down**, turns
**clockwise/anticlockwise**, or **approaches/recedes** (grows/shrinks). The label is the motion and nothing else:

- *A single frame is useless.* Position, angle and scale all take their values from the same grid. The labelled
  one walks it in order (or backwards); each of the others stays at a value drawn from that grid. A frame taken at
  a random time therefore shows each of the four at an independent, uniformly drawn grid value, whatever the
  class: single frames have one and the same distribution for every class.
- *Order is what decides.* Playing a clip backwards turns `left` into `right` (and `clockwise` into
  `anticlockwise`, `approach` into `recede`) with exactly the same frames. A model that ignores frame order (the
  single-frame CNN, LRCN on shuffled frames) can at best tell *which kind* of motion it is (which quantity
  changes) and is at chance, 1/2, between a motion and its reversal. The **direction accuracy** below measures
  this: how often the true class scores above its reversal.
- Each frame of Motion-JPEG is coded on its own, so the codec leaks no motion into the decoded frames either.

**What this notebook does.** Unset `CONVSUITE_QUICK`, it reads `runs/<experiment>` (the experiments
`lrcn-motion`, `single-frame-motion`, `lrcn-shuffled-motion` and `c3d-motion`: 8 motions, 16-frame 32x32 clips,
1,600 training and 800 test videos, 15 epochs) and trains any that is missing, on 2 CPU cores about **4 minutes
for `lrcn-motion`** and as long for the shuffled run, less for the single-frame run, about **8 minutes for
`c3d-motion`**. With `CONVSUITE_QUICK=1` (as the tests run it) it trains the first three (C3D is left out) on 4
motions (left, right, up, down) with 8-frame 16x16 clips, 400 training and 80 test videos, for 3 epochs with small
networks, in a temporary directory: half a minute of machinery, not the results.
""")

code(r"""
import csv
import json
import logging
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import convsuite
from convsuite.common import registry
from convsuite.common.trainer import load_run_model
from convsuite.suites.video import models as video_models
from convsuite.suites.video import train as video_train
from convsuite.suites.video.data import prepare
from convsuite.suites.video.motion import REVERSAL, generate_motion_set
from convsuite.suites.video.video_io import read_clips, write_video

logging.getLogger("tensorflow").setLevel(logging.ERROR)  # not the retracing notes of batches of other sizes
QUICK = os.environ.get("CONVSUITE_QUICK") == "1"
work = Path(tempfile.mkdtemp(prefix="convsuite-video-nb-"))
print("quick mode" if QUICK else "full scale", "- quick runs and files go to", work)

# The repository folder: the first of this folder, its parents and the checkout convsuite is installed from
# that holds suites/video. Its data/ caches the generated videos (unless $CONVSUITE_DATA says otherwise) and its
# runs/ holds the full-scale runs, wherever the notebook is started.
candidates = [Path.cwd(), *Path.cwd().parents, Path(convsuite.__file__).resolve().parents[2]]
repository = next((folder for folder in candidates if (folder / "suites" / "video").is_dir()), Path.cwd())
os.environ.setdefault("CONVSUITE_DATA", str(repository / "data"))

EXPERIMENTS = {"LRCN": "lrcn-motion", "single frame": "single-frame-motion",
               "LRCN, shuffled frames": "lrcn-shuffled-motion", "C3D": "c3d-motion"}
if QUICK:
    del EXPERIMENTS["C3D"]  # full mode only: it keeps the quick run short
QUICK_SETTINGS = ['data.motion_classes=["left","right","up","down"]', "data.motion_frames=8", "data.clip_frames=8",
                  "data.motion_size=16", "data.frame_size=16", "data.motion_train_videos=400",
                  "data.motion_test_videos=80", "trainer.epochs=3", "trainer.learning_rate=0.003",
                  "model.dropout=0.2", "model.width=8", f"data.data_dir={work / 'data'}"]


def experiment_of(name: str):
    # The config refuses settings the chosen model does not use: the LSTM size is for LRCN only.
    if QUICK:
        overrides = [*QUICK_SETTINGS, *(["model.lstm_units=32"] if name.startswith("lrcn") else []),
                     f"trainer.run_dir={work / name}"]
    else:
        overrides = [f"trainer.run_dir={repository / 'runs' / name}"]
    return registry.make_experiment("video", name, [*overrides, "trainer.progress=false"])


experiments = {label: experiment_of(name) for label, name in EXPERIMENTS.items()}
print("data root", experiments["LRCN"].data.data_dir or os.environ["CONVSUITE_DATA"],
      "- full-scale runs in", repository / "runs")
""")

md(r"""
## 1. The motion set, read back from the video files

The training and test videos are generated once (from different seeds) and cached under the data root. Below,
one test video of each motion decoded back from its `.avi` file with `video_io.read_clips` (PyAV, else OpenCV),
which is how training reads them. The last row is the first clip played backwards: a clip of the reversed motion
made of exactly the same frames, which no order-free model can tell from the original.
""")

code(r"""
lrcn_experiment = experiments["LRCN"]
train_videos, test_videos = generate_motion_set(lrcn_experiment.data)
class_names = test_videos.class_names
frames_per_video = lrcn_experiment.data.motion_frames
print(f"{len(train_videos.paths)} training and {len(test_videos.paths)} test videos of {len(class_names)} motions, "
      f"{frames_per_video} frames of {lrcn_experiment.data.motion_size}x{lrcn_experiment.data.motion_size} each")
print("for example", test_videos.paths[0])

# Of the first 10 test videos of each motion, the one whose object moves most visibly (the largest change
# between its first and last frame): some backgrounds and objects are dark or alike.
examples, clips = {}, {}
for label, name in enumerate(class_names):
    candidates = [test_videos.paths[i] for i in np.flatnonzero(test_videos.labels == label)[:10]]
    decoded = [read_clips(path, [0], frames_per_video, 1)[0] for path in candidates]
    change = [np.abs(clip[-1].astype(np.int16) - clip[0]).mean() for clip in decoded]
    examples[name], clips[name] = candidates[int(np.argmax(change))], decoded[int(np.argmax(change))]
first = class_names[0]
rows = [(name, clips[name]) for name in class_names]
rows.append((f"{first}, played\nbackwards = {REVERSAL[first]}", clips[first][::-1]))
shown = np.linspace(0, frames_per_video - 1, min(frames_per_video, 8)).round().astype(int)

fig, axes = plt.subplots(len(rows), len(shown), figsize=(1.1 * len(shown) + 1, 1.1 * len(rows)), squeeze=False)
for row, (name, clip) in enumerate(rows):
    for column, t in enumerate(shown):
        axes[row, column].imshow(clip[t], interpolation="nearest")
        axes[row, column].set_xticks([])
        axes[row, column].set_yticks([])
        if row == 0:
            axes[row, column].set_title(f"t={t}", fontsize=8)
    axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
fig.suptitle("one test clip per motion (decoded from the .avi files)", fontsize=10)
plt.tight_layout()
plt.show()

same_frames = sorted(frame.tobytes() for frame in clips[first]) == sorted(frame.tobytes() for frame in clips[first][::-1])
print(f"the {first} clip and its reversal hold the same set of frames: {same_frames}")
""")

md(r"""
## 2. LRCN beside the single-frame CNN, shuffled frames and C3D

Each experiment is a run (`convsuite train video --config <experiment>`) with its `metrics.json`: the **test
accuracy** per clip (chance: 1/classes) and the **direction accuracy** (how often the true motion scores above its
reversal; chance: 0.5). Order-aware models (LRCN, C3D) can rise above both lines; the single-frame CNN and LRCN on
shuffled frames can learn which kind of motion a clip shows but must stay at 0.5 in direction. Full mode reads the
runs in `runs/` and trains the missing ones; quick mode trains the first three for 3 epochs, too short to separate
them.
""")

code(r"""
runs, results = {}, {}
for label, experiment in experiments.items():
    runs[label] = Path(experiment.trainer.run_dir)
    if (runs[label] / "metrics.json").exists():
        results[label] = json.loads((runs[label] / "metrics.json").read_text())
        print(f"read the finished run {runs[label]}")
    else:
        if not QUICK:
            print(f"training {experiment.name} into {runs[label]}: minutes on 2 CPU cores (see above)")
        results[label] = video_train.train(experiment)

chance = results["LRCN"]["baseline_chance_accuracy"]
print()
print(f"{'model':<24}{'test accuracy':>15}{'direction accuracy':>20}{'video accuracy':>16}{'epochs':>8}")
for label, metrics in results.items():
    print(f"{label:<24}{metrics['test_accuracy']:>15.3f}{metrics.get('test_direction_accuracy', float('nan')):>20.3f}"
          f"{metrics['video_accuracy']:>16.3f}{metrics.get('epochs', 0):>8}")
print(f"{'chance':<24}{chance:>15.3f}{0.5:>20.3f}")

labels = list(results)
positions = np.arange(len(labels))
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.bar(positions - 0.2, [results[k]["test_accuracy"] for k in labels], 0.4, label="test accuracy", color="C0")
ax.bar(positions + 0.2, [results[k].get("test_direction_accuracy", 0) for k in labels], 0.4,
       label="direction accuracy", color="C1")
ax.axhline(chance, color="C0", ls=":", lw=1.5, label=f"chance: 1/{len(class_names)} classes")
ax.axhline(0.5, color="C1", ls="--", lw=1.2, label="chance in direction: 0.5")
ax.set(xticks=positions, xticklabels=labels, ylim=(0, 1.05), ylabel="accuracy on the test clips",
       title=f"motion set: {len(class_names)} motions, {results['LRCN'].get('epochs')} epoch(s)")
ax.legend(fontsize=7, loc="upper right")
plt.show()
""")

md(r"""
## 3. LRCN's learning curves

From the run's `log.csv`: training and validation accuracy per epoch (10% of the training videos held out). LRCN is
trained as in the paper, with a label and a loss at every frame, so these are per-frame accuracies: early frames,
before the LSTM has seen the motion, are guesses, and a clip's averaged score is right more often than its frames.
""")

code(r"""
with open(runs["LRCN"] / "log.csv", newline="") as handle:
    log = list(csv.DictReader(handle))
epochs = [int(row["epoch"]) + 1 for row in log]  # the log counts epochs from 0

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(epochs, [float(row["accuracy"]) for row in log], "o-", label="training (per frame)")
ax.plot(epochs, [float(row["val_accuracy"]) for row in log], "o-", label="validation (per frame)")
ax.axhline(chance, color="k", ls=":", lw=1, label="chance")
ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), xticks=epochs, title=f"LRCN: {runs['LRCN'].name}/log.csv")
ax.legend(fontsize=7)
plt.show()
""")

md(r"""
## 4. Where LRCN goes wrong: the confusion matrix

The test clips as the run was tested on them (`prepare` reads the run's own config), scored with `clip_scores`
(frame predictions averaged over the clip). An order-free model's mistakes would pile up on the reversal of the true
motion (left/right, up/down, ...); a model that follows the motion has a clean diagonal.
""")

code(r"""
lrcn_run = runs["LRCN"]
run_experiment = video_train.experiment_from_run(lrcn_run)
data, prepared = prepare(run_experiment, stream="rgb")
lrcn_model = load_run_model(lrcn_run)
scores = video_train.clip_scores(lrcn_model, data.x_test, decode=data.decode)
test_labels = prepared.test.labels
names = prepared.dataset.class_names
confusion = np.zeros((len(names), len(names)), np.int64)
np.add.at(confusion, (test_labels, scores.argmax(1)), 1)
print(f"{len(test_labels)} test clips, accuracy {np.mean(scores.argmax(1) == test_labels):.3f}")

fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(names), 0.8 + 0.55 * len(names)))
ax.imshow(confusion, cmap="Blues")
for true in range(len(names)):
    for guess in range(len(names)):
        ax.text(guess, true, confusion[true, guess], ha="center", va="center", fontsize=8,
                color="white" if confusion[true, guess] > confusion.max() / 2 else "black")
ax.set(xticks=range(len(names)), yticks=range(len(names)), xlabel="predicted", ylabel="true", title="LRCN, test clips")
ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
ax.set_yticklabels(names, fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
## 5. Saliency over the frames of a clip

Simonyan, Vedaldi & Zisserman's saliency (2014): for one test clip, the largest absolute gradient over the colour
channels of LRCN's clip score for the predicted class with respect to every pixel of every frame
(`models.saliency` on `models.clip_model`, which averages the frame predictions). Bright pixels are those the score
is most sensitive to; a model that follows the motion should look at the moving object rather than the background.
""")

code(r"""
clip_scorer = video_models.clip_model(lrcn_model)
index = 0
clip = np.asarray(data.x_test[index] if data.decode is None else data.decode(data.x_test[index:index + 1])[0])
predicted = int(np.argmax(scores[index]))
heat = video_models.saliency(clip_scorer, clip, predicted)
shown = np.linspace(0, len(clip) - 1, min(len(clip), 8)).round().astype(int)

fig, axes = plt.subplots(2, len(shown), figsize=(1.3 * len(shown), 3.0), squeeze=False)
for column, t in enumerate(shown):
    axes[0, column].imshow(clip[t], interpolation="nearest")
    axes[1, column].imshow(clip[t].mean(axis=-1), cmap="gray", interpolation="nearest")
    axes[1, column].imshow(heat[t], cmap="inferno", alpha=0.6, vmin=0, vmax=heat.max(), interpolation="nearest")
    axes[0, column].set_title(f"t={t}", fontsize=8)
    for row in range(2):
        axes[row, column].set_xticks([])
        axes[row, column].set_yticks([])
axes[0, 0].set_ylabel("frames", fontsize=8)
axes[1, 0].set_ylabel("saliency", fontsize=8)
fig.suptitle(f"a '{names[test_labels[index]]}' test clip, LRCN predicts '{names[predicted]}'", fontsize=10)
plt.tight_layout()
plt.show()
print("saliency share per frame:", np.round(heat.sum(axis=(1, 2)) / heat.sum(), 3))
""")

md(r"""
## 6. Predicting video files

`train.predict(run_dir, paths)` reads each file, takes the run's `data.test_clips` evenly spaced clips, prepares them
exactly as the run's test clips were and averages their scores. Below: a test video, and the same video written
back to a new file played backwards. A model that follows the motion flips its prediction to the reversed motion;
an order-free one gives both files exactly the same scores. So does an LRCN whose LSTM has not yet learnt to use its
memory: each frame's prediction then depends on that frame alone, and their average on the set of frames, as after
quick mode's few seconds of training.
""")

code(r"""
path = examples[first]
reversed_path = write_video(work / f"{first}-reversed.avi", clips[first][::-1])
predictions = video_train.predict(lrcn_run, [path, reversed_path])
for prediction, truth in zip(predictions, (first, REVERSAL[first])):
    print(f"{Path(prediction.path).name}: true {truth!r}, predicted {prediction.label!r} "
          f"({prediction.clips} clip(s) averaged)")
    for name, score in sorted(zip(prediction.class_names, prediction.scores), key=lambda item: -item[1]):
        print(f"    {name:<14}{score:.3f}")
difference = np.abs(predictions[0].scores - predictions[1].scores).max()
print(f"largest score difference between the two orders: {difference:.4f}"
      + (" - order-free so far" if difference < 1e-3 else ""))
""")

md(r"""
## What the numbers mean, and full scale

On the motion set a model can only be right by following the frames in order: the single-frame CNN and LRCN on
shuffled frames stay at 0.5 in direction accuracy whatever they learn, while LRCN and C3D, which see the order, can
go well above both chance lines. This is the motion-only version of the paper's point: on UCF101, where a single
frame already shows much of the action (a pool, a horse, a guitar), Donahue et al. report only a small gain of LRCN
over the single frame on RGB (68.2% against 67.4%, split 1) and a large one once optical flow is added (82.3% with
RGB 1/3 + flow 2/3). In quick mode the numbers above are a few seconds of training and mean nothing.

The full-scale numbers of the motion set and the paper's table are in `RESULTS.md`, filled by
`convsuite reproduce video`. `convsuite evaluate video --checkpoint runs/lrcn-motion` re-scores a run, and
`convsuite video predict --checkpoint runs/lrcn-motion VIDEO...` (the CLI's form of `train.predict`) labels
your own videos; a folder of class subfolders of your own videos trains with `--set data.dataset=/path/to/videos`.

UCF101 (Soomro, Zamir & Shah 2012) needs the videos and the official split files in one folder, and a GPU:
`convsuite train video --config lrcn-ucf101 --set data.data_dir=/path/to/UCF101` (also `single-frame-ucf101`,
`lrcn-fused-ucf101` for RGB + flow fused with weights 1/3 and 2/3, `c3d-ucf101` and `twostream-ucf101`).
""")


if __name__ == "__main__":
    BUILDER.main(__doc__)
