#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-check.sh BUILD_DIR: what `make check` runs, in order: the unit
# suite, the same built with clang's AddressSanitizer and
# UndefinedBehaviorSanitizer (BUILD_DIR/sanitize: any report fails its
# test), the QEMU build with its qtests, the VM suite.  Every stage runs
# even when an earlier one failed, so that one run reports everything;
# the VM groups that need the built QEMU fail, saying so, when it did not
# build.  The last line counts every test case of the three:
#
#   N passed, N failed[, N skipped]
#
# A test that cannot run here exits 77 and is counted as skipped (meson
# prints why in the test's log), never as passed.  Just above that line,
# each failed test is named with the lines of its log that say why, so
# that the end of the output is enough to start from.  Exits 1 when
# anything failed.
set -u
build_dir=${1:?usage: run-check.sh BUILD_DIR}
src=$(cd "$(dirname -- "$0")/.." && pwd)
passed=0
failed=0
skipped=0
digest=$build_dir/check-failures.txt
: > "$digest"

# add P F S STAGE: add a stage's counts to the totals and report them.
add() {
    passed=$((passed + $1))
    failed=$((failed + $2))
    skipped=$((skipped + $3))
    echo "check: $4: $1 passed, $2 failed, $3 skipped"
}

# meson_stage SUITE [DIR STAGE]: run the meson suite SUITE in DIR
# [BUILD_DIR], then count its results from the JSON log meson wrote (one
# object per test) as stage STAGE [SUITE].
meson_stage() {
    _dir=${2:-$build_dir}
    _stage=${3:-$1}
    _extra=
    [ "$1" = vm ] && _extra="--num-processes 1"
    # shellcheck disable=SC2086
    meson test -C "$_dir" --suite "$1" --print-errorlogs \
        --logbase "check-$_stage" $_extra
    _rc=$?
    _counts=$(python3 - "$_dir/meson-logs/check-$_stage.json" "$digest" <<'PY'
import json, sys
p = f = s = 0
failures = []
try:
    with open(sys.argv[1]) as log:
        for line in log:
            r = json.loads(line)
            if r["result"] == "OK":
                p += 1
            elif r["result"] == "SKIP":
                s += 1
            else:
                f += 1
                failures.append(r)
except OSError:
    pass
# Each failure with the lines that say why: those naming a failure, and
# the ten before the first of them (for a hang, the log's last ten).
with open(sys.argv[2], "a") as digest:
    for r in failures:
        out = (r.get("stdout") or "").splitlines()
        why = [i for i, l in enumerate(out) if "FAIL" in l or "not ok" in l]
        first = why[0] if why else len(out)
        keep = sorted(set(range(max(0, first - 10), first)) | set(why[:8]))
        digest.write("check: %s %s:\n" % (r["name"], r["result"]))
        for i in keep:
            digest.write("    " + out[i][:200] + "\n")
print(p, f, s)
PY
)
    # shellcheck disable=SC2086
    set -- $_counts "$_stage"
    # meson failed without a failed test: its set-up broke; count that.
    if [ "$_rc" != 0 ] && [ "$2" = 0 ]; then
        set -- "$1" 1 "$3" "$4"
        echo "check: meson test --suite $4 failed (exit status $_rc)" \
            "before any test failed" >> "$digest"
    fi
    add "$1" "$2" "$3" "$4"
}

# qtest_stage: build QEMU with shmcam-pci and run its qtests; each TAP
# "ok"/"not ok" line is one case.
qtest_stage() {
    _tap=$build_dir/qtest.tap
    rm -f "$_tap"
    "$src/tests/setup/build-qemu.sh" --check --tap-log="$_tap" \
        ${QEMU_SRC:+--qemu-src="$QEMU_SRC"} "$build_dir"
    _rc=$?
    _p=0 _f=0 _s=0
    if [ -f "$_tap" ]; then
        _s=$(grep -c '^ok .*# *SKIP' "$_tap")
        _p=$(($(grep -c '^ok ' "$_tap") - _s))
        _f=$(grep -c '^not ok ' "$_tap")
        if [ "$_f" != 0 ]; then
            echo "check: qtest:" >> "$digest"
            grep '^not ok ' "$_tap" | head -n 8 | cut -c1-200 |
                sed 's/^/    /' >> "$digest"
        fi
    fi
    if [ "$_rc" != 0 ] && [ "$_f" = 0 ]; then
        echo "check: the QEMU build or a qtest binary failed" \
            "(exit status $_rc)" | tee -a "$digest"
        _f=1
    fi
    add "$_p" "$_f" "$_s" qtest
}

# sanitize_stage: the host programs and the unit suite again, built by
# clang with ASan and UBSan in BUILD_DIR/sanitize.  A report aborts the
# program that made it, which fails its test; leaks count (LeakSanitizer).
sanitize_stage() {
    _san=$build_dir/sanitize
    if [ ! -f "$_san/build.ninja" ] &&
       ! CC=clang meson setup "$_san" "$src" -Dbuildtype=debug \
            -Db_sanitize=address,undefined -Db_lundef=false; then
        echo "check: the sanitizer build could not be set up" | tee -a "$digest"
        add 0 1 0 sanitize
        return
    fi
    if ! ninja -C "$_san"; then
        echo "check: the sanitizer build failed" | tee -a "$digest"
        add 0 1 0 sanitize
        return
    fi
    export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    meson_stage unit "$_san" sanitize
    unset ASAN_OPTIONS UBSAN_OPTIONS
}

meson_stage unit
sanitize_stage
qtest_stage
meson_stage vm

cat "$digest"
line="$passed passed, $failed failed"
[ "$skipped" = 0 ] || line="$line, $skipped skipped"
echo "$line"
[ "$failed" = 0 ]
