#!/usr/bin/env bash
# Run the whole test suite (build first if needed). Root runs everything; as
# another user the tests that need root (BPF programs, mounts) are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure --timeout 1800 "$@"
