#!/usr/bin/env bash
# Set up fbpf on Debian 12 (bookworm): install the packages it needs (libbpf and
# bpftool from bookworm-backports; never trixie), build it into ./build, and
# compile the suffix-rename example policy.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" |
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
$SUDO apt-get update -qq
# libbpf >= 1.4 loads struct_ops types that live in a module (bookworm has 1.1.2)
$SUDO apt-get install -y -qq -t bookworm-backports libbpf-dev bpftool
$SUDO apt-get install -y -qq build-essential cmake pkg-config flex bison check \
  clang-19 llvm-19 libclang-rt-19-dev libelf-dev zlib1g-dev \
  libfuse3-dev fuse3 bindfs \
  mmdebstrap qemu-system-x86 cpio
# FUSE for unprivileged users, as a stock Debian has it (udev makes /dev/fuse
# 0666); the tests mount as another uid with allow_other.
if [ -c /dev/fuse ] && [ "$(stat -c %a /dev/fuse)" != 666 ]; then $SUDO chmod 0666 /dev/fuse; fi
if ! grep -qs '^user_allow_other' /etc/fuse.conf; then
  echo user_allow_other | $SUDO tee -a /etc/fuse.conf >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

./build/compiler/fbpfc compile examples/suffix-rename/policy.fbp -o build/suffix-rename.o
echo "compiled examples/suffix-rename/policy.fbp into build/suffix-rename.o:"
./build/compiler/fbpfc explain build/suffix-rename.o /docs.x/report.txt.x
