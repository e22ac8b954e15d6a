# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the shell tests of shmcam-host and shmcam-dump.
# The test's meson entry passes SHMCAM_HOST and SHMCAM_DUMP in the
# environment.  Every name is unique per test run; everything made is
# removed on exit.

set -u
: "${SHMCAM_HOST:?}" "${SHMCAM_DUMP:?}"

TEST_NAME=shmcam-t$$-$(od -An -N2 -tu2 /dev/urandom | tr -d " ")
TEST_TMP=$(mktemp -d)
HOST_PID=
failures=0

cleanup() {
    if [ -n "$HOST_PID" ]; then
        kill "$HOST_PID" 2>/dev/null
        wait "$HOST_PID" 2>/dev/null
    fi
    rm -f /dev/shm/"$TEST_NAME"*
    rm -rf "$TEST_TMP"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

pass() {
    echo "ok: $*"
}

# expect_run WANT_RC WANT_STDERR_LINE cmd...: the command's exit status and
# the exact last line it printed on stderr.
expect_run() {
    want_rc=$1 want_msg=$2
    shift 2
    "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
    rc=$?
    got=$(tail -n 1 "$TEST_TMP/err")
    if [ "$rc" != "$want_rc" ]; then
        fail "$* exited $rc, expected $want_rc (stderr: $got)"
    elif [ "$got" != "$want_msg" ]; then
        fail "$*: stderr was '$got', expected '$want_msg'"
    else
        pass "$* -> $rc: $got"
    fi
}

# start_host ARGS...: shmcam-host in the background, its stderr in host.log
start_host() {
    "$SHMCAM_HOST" "$@" 2>"$TEST_TMP/host.log" &
    HOST_PID=$!
}

# stop_host: SIGTERM, and the daemon must exit 0
stop_host() {
    kill -TERM "$HOST_PID"
    wait "$HOST_PID"
    rc=$?
    HOST_PID=
    [ "$rc" = 0 ] || fail "shmcam-host exited $rc after SIGTERM: $(cat "$TEST_TMP/host.log")"
}

# wait_region NAME: until the producer has laid out /dev/shm/NAME
wait_region() {
    i=0
    while [ $i -lt 200 ]; do
        [ -s "/dev/shm/$1" ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    fail "region /dev/shm/$1 never appeared"
    return 1
}

# Header fields of a region file, as python prints them.
header() {
    python3 - "$1" "$2" <<'PY'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    h = f.read(4096)
fields = {'magic': ('<Q', 0), 'abi_major': ('<H', 8), 'session_id': ('<Q', 24),
          'heartbeat': ('<Q', 32), 'state': ('<I', 44), 'slot_count': ('<I', 48),
          'format_gen': ('<I', 72), 'pixelformat': ('<4s', 80),
          'width': ('<I', 84), 'height': ('<I', 88)}
fmt, off = fields[sys.argv[2]]
v = struct.unpack_from(fmt, h, off)[0]
print(v.decode() if isinstance(v, bytes) else v)
PY
}

# wait_streaming FILE FIELD VALUE: until the region FILE streams with its
# header FIELD at VALUE (abi_major 1: laid out by our producer); fails
# after 10 s.
wait_streaming() {
    i=0
    while [ "$(header "$1" "$2")/$(header "$1" state)" != "$3/1" ]; do
        [ $i -lt 200 ] || return 1
        sleep 0.05
        i=$((i + 1))
    done
}

# verify_line N: the --verify summary line of N good frames
verify_line() {
    echo "verified $1 frames, 0 bad, 0 out of order"
}

finish() {
    if [ "$failures" != 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
