#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# shmcam-host --listen from the command line: every bad option and every
# unusable socket path with its exact message, a stale socket taken over,
# the socket's mode, and the capture process supervised: restarted with a
# growing delay while it fails, left alone once it finished, and gone when
# the server is.  (tests/unit/test-server.c speaks the protocol.)
. "$(dirname "$0")/lib.sh"

H=$SHMCAM_HOST
S=$TEST_TMP/sock

no_socket() {
    [ -e "$S" ] && fail "$1: a socket was left at $S" && rm -f "$S"
}

# wait_log TEXT: until host.log has a line starting with TEXT
wait_log() {
    i=0
    while [ $i -lt 400 ]; do
        grep -q "^$1" "$TEST_TMP/host.log" && return 0
        sleep 0.05
        i=$((i + 1))
    done
    fail "no line '$1' in the log: $(cat "$TEST_TMP/host.log")"
    return 1
}

# child_pid N: the pid of the Nth capture process the server started
child_pid() {
    sed -n 's/^shmcam-host: capture process \([0-9]*\) started$/\1/p' \
        "$TEST_TMP/host.log" | sed -n "${1}p"
}

# gone PID: until that process no longer exists
gone() {
    i=0
    while kill -0 "$1" 2>/dev/null; do
        [ $i -lt 200 ] || { fail "process $1 is still there"; return 1; }
        sleep 0.05
        i=$((i + 1))
    done
}

# shmcam-dump --connect where no server is, or one that is not ivshmem
expect_run 2 "shmcam-dump: choose one region: --shm NAME, --region PATH or --connect SOCKET (see shmcam-dump --help)" \
    "$SHMCAM_DUMP" --connect "$S" --shm "$TEST_NAME"
expect_run 1 "shmcam-dump: timeout: no shmcam producer in $S after 1 s (is shmcam-host running?)" \
    "$SHMCAM_DUMP" --connect "$S" --timeout 1 --frames 1
python3 - "$TEST_TMP/other" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
c.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
c.recv(1)
PY
other=$!
i=0
while [ ! -S "$TEST_TMP/other" ] && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
expect_run 1 "shmcam-dump: $TEST_TMP/other does not speak the ivshmem server protocol 0 (is it shmcam-host --listen?)" \
    "$SHMCAM_DUMP" --connect "$TEST_TMP/other" --timeout 1 --frames 1
wait $other

# the command line: exit 2, no socket
expect_run 2 "shmcam-host: --isolate needs --listen SOCKET (see shmcam-host --help)" \
    "$H" --isolate
expect_run 2 "shmcam-host: choose one region: --shm NAME, --region PATH or --listen SOCKET (--pci-listen SOCKET: the guests bring theirs)" \
    "$H" --pci-listen "$S" --shm "$TEST_NAME"
expect_run 2 "shmcam-host: choose one region: --shm NAME, --region PATH or --listen SOCKET (--pci-listen SOCKET: the guests bring theirs)" \
    "$H" --listen "$S" --shm "$TEST_NAME"
expect_run 2 "shmcam-host: --listen needs a socket path (e.g. --listen /run/shmcam.sock)" \
    "$H" --listen ""
expect_run 2 "shmcam-host: --region-size 3M is not a power of two between 64K and 64G (e.g. --region-size 8M)" \
    "$H" --listen "$S" --region-size 3M
expect_run 2 "shmcam-host: --region-size 16MB is not a power of two between 64K and 64G (e.g. --region-size 8M)" \
    "$H" --listen "$S" --region-size 16MB
expect_run 2 "shmcam-host: --region-size 32K is not a power of two between 64K and 64G (e.g. --region-size 8M)" \
    "$H" --listen "$S" --region-size 32K
expect_run 2 "shmcam-host: --region-size 1M is too small: 1920x1080 YUYV with 3 slots needs 16 MiB (--region-size 16M)" \
    "$H" --listen "$S" --region-size 1M --size 1920x1080
no_socket "bad command lines"

# paths that cannot be a socket: exit 1, nothing touched
expect_run 1 "shmcam-host: cannot listen on $TEST_TMP/none/sock: No such file or directory (choose a path in a directory you may write to)" \
    "$H" --listen "$TEST_TMP/none/sock"
echo data >"$TEST_TMP/file"
expect_run 1 "shmcam-host: $TEST_TMP/file exists and is not a socket (remove it, or choose another path)" \
    "$H" --listen "$TEST_TMP/file"
[ "$(cat "$TEST_TMP/file")" = data ] || fail "a file in the way was modified"
expect_run 1 "shmcam-host: $TEST_TMP exists and is not a socket (remove it, or choose another path)" \
    "$H" --listen "$TEST_TMP"
# a symbolic link planted at the path, dangling or not: refused, and
# nothing made where it points
ln -s "$TEST_TMP/planted" "$TEST_TMP/link"
expect_run 1 "shmcam-host: $TEST_TMP/link exists and is not a socket (remove it, or choose another path)" \
    "$H" --listen "$TEST_TMP/link"
[ -e "$TEST_TMP/planted" ] && fail "a socket was made through a symbolic link"
ln -sf "$TEST_TMP/file" "$TEST_TMP/link"
expect_run 1 "shmcam-host: $TEST_TMP/link exists and is not a socket (remove it, or choose another path)" \
    "$H" --listen "$TEST_TMP/link"
[ -f "$TEST_TMP/file" ] && [ ! -L "$TEST_TMP/file" ] &&
    [ "$(cat "$TEST_TMP/file")" = data ] || fail "the link's target was modified"
long=$TEST_TMP/$(printf '%0120d' 0)
expect_run 1 "shmcam-host: socket path $long is too long (at most 107 bytes; choose a shorter one)" \
    "$H" --listen "$long"

# a running server keeps its socket; a second one is refused
start_host --listen "$S" --size 320x240 --mode 0660
wait_log "shmcam-host: test pattern: streaming"
[ "$(stat -c %a "$S")" = 660 ] || fail "socket mode is $(stat -c %a "$S"), not 660"
first=$(child_pid 1)
cp "$TEST_TMP/host.log" "$TEST_TMP/first.log"
expect_run 1 "shmcam-host: $S is in use by a running server (stop it first, or choose another path)" \
    "$H" --listen "$S"
kill -0 "$HOST_PID" && [ -S "$S" ] || fail "the running server was disturbed"

# a local reader: shmcam-dump as an ivshmem client of the server
"$SHMCAM_DUMP" --connect "$S" --frames 30 --verify >"$TEST_TMP/dump.out" 2>&1 ||
    fail "shmcam-dump --connect: $(cat "$TEST_TMP/dump.out")"
grep -qx "$(verify_line 30)" "$TEST_TMP/dump.out" ||
    fail "shmcam-dump --connect: $(cat "$TEST_TMP/dump.out")"
wait_log "shmcam-host: client [0-9]* disconnected"

# kill -9 of the server: its capture process goes too, the socket file
# stays behind, and the next server takes it over
kill -KILL "$HOST_PID"
wait "$HOST_PID" 2>/dev/null
HOST_PID=
gone "$first"
[ -S "$S" ] || fail "no stale socket after kill -9"
start_host --listen "$S" --size 320x240
wait_log "shmcam-host: ivshmem server on $S for up to 32 guests, one region: 512 KiB"
[ "$(stat -c %a "$S")" = 600 ] || fail "socket mode is $(stat -c %a "$S"), not the default 600"
wait_log "shmcam-host: test pattern: streaming"
second=$(child_pid 1)
stop_host
[ -e "$S" ] && fail "socket left after SIGTERM"
gone "$second"
grep -q "restarting" "$TEST_TMP/host.log" && fail "a restart during a clean run"

# a capture process that keeps failing: restarted, later and later; the
# server stays up for its guests, and stops cleanly
missing=/dev/video-missing-$$
start_host --listen "$S" --camera "$missing" --isolate
wait_log "shmcam-host: ivshmem server on $S for up to 32 guests, a region of its own for each: 8 MiB"
wait_log "shmcam-host: camera $missing: No such file or directory (check the device name, e.g. ls /dev/video\*)"
wait_log "shmcam-host: capture process $(child_pid 1) exited with status 1; restarting in 0.5 s"
wait_log "shmcam-host: capture process [0-9]* exited with status 1; restarting in 1.0 s"
[ "$(child_pid 2)" != "$(child_pid 1)" ] || fail "no second capture process"
kill -0 "$HOST_PID" && [ -S "$S" ] || fail "the server went with its capture process"
stop_host

# a capture process that finished (the end of a --file) is not restarted
"$SHMCAM_DUMP" --generate "$TEST_TMP/frames.raw" --format YUYV --size 320x240 --frames 5 ||
    fail "cannot generate frames"
start_host --listen "$S" --file "$TEST_TMP/frames.raw" --size 320x240 --fps 100
wait_log "shmcam-host: end of file $TEST_TMP/frames.raw after 5 frames"
wait_log "shmcam-host: capture process $(child_pid 1) finished; guests stay connected until shmcam-host stops"
kill -0 "$HOST_PID" || fail "the server stopped with the end of the file"
[ -z "$(child_pid 2)" ] || fail "a finished capture process was restarted"
stop_host
finish
