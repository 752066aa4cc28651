#!/usr/bin/env bash
# Install everything convsuite needs on a fresh Debian/Ubuntu machine with Python >= 3.10:
# the offline Fashion-MNIST package from apt, then convsuite itself (editable) with the
# TensorFlow CPU backend, the image extras and the test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing the Debian package dataset-fashion-mnist (offline Fashion-MNIST)..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e ".[tf-cpu,image,timeseries,elecdemand,dev]"
echo "convsuite installed: $(command -v convsuite)"
