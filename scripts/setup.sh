#!/usr/bin/env bash
# Install everything convsuite needs on a fresh Debian/Ubuntu machine with Python >= 3.10.
#
# - Debian packages by name: dataset-fashion-mnist (the offline default dataset), gnugo (the Go
#   suite's game generator and opponent), python3-venv where the system Python lacks venv.
# - GNU Go's source archive (its regression suite holds ~690 real 19x19 games), fetched with
#   apt's own source-package mechanism from the archives this machine is already configured
#   for, through a private temporary source list: no system file is touched, no host is named.
#   Optional: without it only the `gnugo-regression` dataset is missing.
# - A project virtual environment `.venv/` made from the `python3` on PATH (or $PYTHON), so it
#   works on PEP 668 "externally managed" system Pythons (Debian 12, Ubuntu 24.04), pyenv and
#   conda alike, with convsuite installed editable into it plus the TensorFlow CPU backend, the
#   suites' extras and the test tools.
# Safe to run again. Afterwards: .venv/bin/convsuite ..., .venv/bin/python -m pytest ...
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
  echo "setup: no $python on PATH; install Python >= 3.10 (e.g. apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup: $("$python" --version 2>&1) is too old; convsuite needs Python >= 3.10 (set PYTHON=...)" >&2
  exit 1
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
apt_updated=""
apt_install() {
  command -v apt-get >/dev/null || { echo "setup: no apt-get here; install these yourself: $*" >&2; return 1; }
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  echo "Installing Debian packages: $*..."
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

packages=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || packages+=(dataset-fashion-mnist)
command -v gnugo >/dev/null || [ -x /usr/games/gnugo ] || packages+=(gnugo)
# Debian's python3 can lack ensurepip (package python3-venv / python3.X-venv).
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  minor=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  packages+=(python3-venv "python$minor-venv")
fi
if [ ${#packages[@]} -gt 0 ]; then
  apt_install "${packages[@]}" || echo "warning: could not install ${packages[*]}" >&2
fi

archive=data/go/gnugo_3.8.orig.tar.gz
archive_sha256=da68d7a65f44dcf6ce6e4e630b6f6dd9897249d34425920bfdd4e07ff1866a72
if [ ! -f "$archive" ] && command -v apt-get >/dev/null; then
  echo "Fetching GNU Go's source archive (3.2 MB) with apt-get source into $archive..."
  mkdir -p data/go
  tmp=$(mktemp -d)
  mkdir -p "$tmp/parts" "$tmp/lists/partial"
  # The machine's own deb sources (deb822 or one-line), turned into deb-src, in a private list.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types: *deb$/Types: deb-src/' "$f" >"$tmp/parts/$(basename "$f")"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^deb /deb-src /p' "$f" >"$tmp/parts/$(basename "$f" .list).list"
  done
  opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/parts" -o Dir::State::Lists="$tmp/lists")
  # apt-get source also asks for the Debian packaging part, which can be missing: only the
  # .orig archive matters, so its exit status is not trusted; the checksum below is.
  if $sudo apt-get "${opts[@]}" update -qq >/dev/null 2>&1; then
    (cd "$tmp" && $sudo apt-get "${opts[@]}" source --download-only -qq gnugo >/dev/null 2>&1) || true
  fi
  if [ -f "$tmp/gnugo_3.8.orig.tar.gz" ] &&
     echo "$archive_sha256  $tmp/gnugo_3.8.orig.tar.gz" | sha256sum -c --quiet - 2>/dev/null; then
    cp "$tmp/gnugo_3.8.orig.tar.gz" "$archive"
  else
    echo "warning: GNU Go's source archive is not available from this machine's apt sources; the" \
         "gnugo-regression games are missing (data/README.md says how to get them)" >&2
  fi
  $sudo rm -rf "$tmp"
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating the project virtual environment .venv/ with $("$python" --version 2>&1)..."
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[tf-cpu,image,timeseries,elecdemand,go,cluster,dev]"
echo "convsuite installed in .venv/: run .venv/bin/convsuite (or source .venv/bin/activate)"
