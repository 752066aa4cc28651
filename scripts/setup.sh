#!/usr/bin/env bash
# Install everything convsuite needs on a fresh Debian/Ubuntu machine with Python >= 3.10:
# Debian packages (offline Fashion-MNIST; GNU Go, the Go suite's game generator and opponent),
# GNU Go's source archive from the Debian archive (its regression suite holds ~690 real 19x19
# games), then convsuite itself (editable) with the TensorFlow CPU backend, the suites' extras
# and the test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || packages+=(dataset-fashion-mnist)
command -v gnugo >/dev/null || [ -x /usr/games/gnugo ] || packages+=(gnugo)
if [ ${#packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${packages[*]}..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

archive=data/go/gnugo_3.8.orig.tar.gz
if [ ! -f "$archive" ]; then
  echo "Fetching GNU Go's Debian source archive (3.2 MB) into $archive..."
  mkdir -p data/go
  if curl -fsSL -o "$archive.part" http://deb.debian.org/debian/pool/main/g/gnugo/gnugo_3.8.orig.tar.gz &&
     echo "da68d7a65f44dcf6ce6e4e630b6f6dd9897249d34425920bfdd4e07ff1866a72  $archive.part" | sha256sum -c --quiet -; then
    mv "$archive.part" "$archive"
  else
    rm -f "$archive.part"
    echo "warning: could not fetch $archive; the gnugo-regression games (and the test replaying them) are unavailable"
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e ".[tf-cpu,image,timeseries,elecdemand,go,dev]"
echo "convsuite installed: $(command -v convsuite)"
