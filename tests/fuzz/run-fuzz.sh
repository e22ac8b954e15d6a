#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-fuzz.sh FUZZ_SOURCE INCLUDE_DIR GEN_SEEDS WORK_DIR RUNS
#
# Builds the libFuzzer target with clang (meson's compiler is gcc), writes
# the seed corpus and runs a bounded, reproducible fuzzing pass over it.
# Fails on any crash, sanitizer report or broken invariant (exit 1; 77,
# meson's skip, only when clang is missing).

set -eu

if [ $# -ne 5 ]; then
    echo "usage: $0 FUZZ_SOURCE INCLUDE_DIR GEN_SEEDS WORK_DIR RUNS" >&2
    exit 2
fi
src=$1 inc=$2 gen=$3 work=$4 runs=$5
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "$cc not found: install clang and libclang-rt-14-dev" \
         "(tests/setup/install-packages.sh); fuzzing skipped" >&2
    exit 77
fi

rm -rf "$work"
mkdir -p "$work/seeds" "$work/found"
"$cc" -g -O1 -std=gnu11 -Wall -Wextra -Werror \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$inc" -o "$work/fuzz-reader" "$src"
"$gen" "$work/seeds"

# New inputs go to found/; the seeds stay as generated.
cd "$work"
exec ./fuzz-reader -runs="$runs" -seed=1 -max_len=16384 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -print_final_stats=1 found seeds
