"""`convsuite drug screen`: rank a ligand library by a trained drug-suite run's probability of activity.

Every ligand of an SDF, MOL2 or SMILES library (gzipped or not, of any size) is posed in the binding site
(3-D records as given, SMILES aligned to the site ligand), gridded as the run's training grids were and
scored by the run's model, or by the average of a cross-validated run's fold models (``screening.screen``).
An interrupted screen started again with the same arguments goes on where it stopped.

Imports no Keras: ``screen`` loads the models once the backend is chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from convsuite.common.errors import ConvsuiteError

HELP = "screen a ligand library against a binding site with a trained 3-D CNN run and rank it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="drug_command", required=True, metavar="{screen}")
    screen = commands.add_parser(
        "screen", help="score and rank every ligand of a library (.sdf, .mol2, .smi, optionally .gz)",
        description="Score every ligand of a library with a run of `convsuite train drug` and write them ranked "
                    "by probability of activity to --out (rank, index, name, score, smiles). Ligands with 3-D "
                    "coordinates keep their pose; SMILES and 2-D records are embedded and aligned to the --site "
                    "ligand (the same pose for the same record every time). A cross-validated run scores with the "
                    "average of its fold models. Unusable records are listed with their reason in "
                    "OUT-stem.skipped.csv. An interrupted screen resumes when started again with the same "
                    "arguments.")
    screen.add_argument("--checkpoint", metavar="RUN", required=True,
                        help="run directory written by `convsuite train drug`")
    screen.add_argument("--ligands", metavar="LIB", required=True,
                        help="the library: .sdf, .mol2, .smi or .ism, optionally gzipped (.sdf.gz, ...)")
    screen.add_argument("--out", metavar="RANKED.csv", required=True,
                        help="the ranked list to write (at the end, atomically); rows in progress go to "
                             "RANKED.csv.partial")
    screen.add_argument("--receptor", metavar="R.pdb",
                        help="the receptor structure (.pdb, .pdbqt, .mol2) in the site's frame; required when the "
                             "run was trained with receptor atoms, refused when it was not")
    screen.add_argument("--site", metavar="REF.sdf",
                        help="the site ligand (.sdf, .mol2, .pdb): the grid is centred on it and SMILES are aligned "
                             "to it")
    screen.add_argument("--box", metavar="X,Y,Z,SIZE",
                        help="the site box centre and edge in Å, instead of (or besides) --site; without --site "
                             "only 3-D records can be scored")
    screen.add_argument("--workers", type=int, default=0, metavar="N",
                        help="processes that pose ligands (0 = all cores, the default; 1 = in this process)")
    screen.add_argument("--cluster", default="", metavar="ADDRESS",
                        help="pose ligands on a Ray cluster: local, auto or host:port (default: local processes)")
    screen.add_argument("--which", choices=("best", "model"), default="model",
                        help="model: each model's last epoch, the one the run's numbers are of (default); best: its "
                             "epoch of best validation ROC AUC, else its last")
    screen.add_argument("--batch-size", type=int, default=64, metavar="B",
                        help="grids per model call (default: %(default)s; lower it when memory is short)")
    screen.add_argument("--rotations", type=int, default=1, metavar="R",
                        help="average each ligand's score over R grids: unrotated, then seeded random rotations "
                             "(default: %(default)s)")
    screen.add_argument("--chunk-size", type=int, default=64, metavar="C",
                        help="ligands per worker task and per save of the partial results (default: %(default)s)")
    screen.add_argument("--seed", type=int, default=0,
                        help="seeds the poses of SMILES (seed + record index) and the rotations (default: 0)")
    screen.add_argument("--fresh", action="store_true",
                        help="discard the partial results of an interrupted screen with other settings and start "
                             "over")
    screen.add_argument("--no-progress", action="store_true", help="no progress bar and no summary line on stderr")
    screen.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    screen.add_argument("--backend", choices=("tensorflow", "jax"), help="Keras backend (default: $KERAS_BACKEND)")


def run(args) -> int:
    if not Path(args.checkpoint).is_dir():
        raise ConvsuiteError(f"--checkpoint {args.checkpoint} is not a run directory; give the folder that "
                             "`convsuite train drug` wrote (runs/<experiment> by default)")
    if args.site is None and args.box is None:
        raise ConvsuiteError("give the binding site: --site ref.sdf (the site ligand) or --box x,y,z,size")
    from convsuite.common.cli import start_keras

    start_keras(args.backend or os.environ.get("KERAS_BACKEND", "tensorflow"))
    from convsuite.suites.drug.screening import screen

    summary = screen(args.checkpoint, args.ligands, args.out, receptor=args.receptor, site=args.site, box=args.box,
                     workers=args.workers, cluster=args.cluster, which=args.which, batch_size=args.batch_size,
                     rotations=args.rotations, chunk_size=args.chunk_size, seed=args.seed, fresh=args.fresh,
                     progress=not args.no_progress)
    if args.json:
        print(json.dumps(summary.as_dict()))
    elif args.no_progress:
        print(summary.line())
    sys.stdout.flush()
    return 0 if summary.scored else 1
