#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Regions someone else made: shmcam-host attaches only to a regular file
# it owns, with no mode bits beyond --mode, never through a symbolic
# link, and locks it for as long as it runs.  Another local user (nobody)
# plays the squatter; what is refused is left byte for byte as it was.
. "$(dirname "$0")/lib.sh"

H=$SHMCAM_HOST
R=/dev/shm/$TEST_NAME
umask 077

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root, to play another user (nobody)"
    exit 77
fi
as_nobody() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# streaming WHAT: until the producer has laid $R out and streams.
streaming() {
    wait_streaming "$R" abi_major 1 || fail "$1: the region never streamed"
}

# check_untouched FILE SUM WHAT
check_untouched() {
    [ "$(sha256sum <"$1")" = "$2" ] || fail "$3: the region was modified"
}

# Another user pre-creates the name, world-writable: refused, with its
# owner and the way out; the object is left as it was.
as_nobody sh -c "umask 0; truncate -s 8M $R" || fail "nobody cannot create $R"
sum=$(sha256sum <"$R")
expect_run 1 "shmcam-host: region $R belongs to nobody (uid $(id -u nobody)), not to uid 0 that shmcam-host runs as: its owner could read the frames or take the region away (remove it and let shmcam-host create it, choose another name, or --force if you trust its owner)" \
    "$H" --shm "$TEST_NAME" --size 640x480
check_untouched "$R" "$sum" "squatted --shm"
expect_run 1 "shmcam-host: region $R belongs to nobody (uid $(id -u nobody)), not to uid 0 that shmcam-host runs as: its owner could read the frames or take the region away (remove it and let shmcam-host create it, choose another name, or --force if you trust its owner)" \
    "$H" --region "$R" --size 640x480
check_untouched "$R" "$sum" "squatted --region"
rm -f "$R"

# Our own file, but readable by everyone: refused unless --mode says so.
(umask 022 && truncate -s 8M "$R")
sum=$(sha256sum <"$R")
expect_run 1 "shmcam-host: region $R has mode 0644, wider than --mode 0600 allows (chmod 0600 $R, or --mode 0644 to accept it)" \
    "$H" --shm "$TEST_NAME" --size 640x480
check_untouched "$R" "$sum" "mode 0644"
start_host --shm "$TEST_NAME" --size 640x480 --mode 0644
streaming "--mode 0644"
"$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 5 --verify >"$TEST_TMP/dump.out" 2>&1 ||
    fail "--mode 0644: $(cat "$TEST_TMP/dump.out")"

# While it runs the region is locked: a second producer is refused at
# once, even with --force, and the first streams on.
expect_run 1 "shmcam-host: region $R is in use by another shmcam-host on this machine (stop it first)" \
    "$H" --shm "$TEST_NAME" --size 640x480 --mode 0644 --force
"$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 5 --verify >"$TEST_TMP/dump.out" 2>&1 ||
    fail "locked: the first producer was disturbed: $(cat "$TEST_TMP/dump.out")"
stop_host
rm -f "$R"

# A symbolic link (here to a file of ours) is refused, not followed.
(umask 077 && truncate -s 8M "$TEST_TMP/target")
sum=$(sha256sum <"$TEST_TMP/target")
ln -s "$TEST_TMP/target" "$R"
expect_run 1 "shmcam-host: region $R is a symbolic link (give the file it points to)" \
    "$H" --shm "$TEST_NAME" --size 640x480
expect_run 1 "shmcam-host: region $R is a symbolic link (give the file it points to)" \
    "$H" --region "$R" --size 640x480
check_untouched "$TEST_TMP/target" "$sum" "symbolic link"
rm -f "$R"

# Not a regular file.
expect_run 1 "shmcam-host: region /dev/null is not a regular file (give a file, a /dev/shm object or a PCI resource file)" \
    "$H" --region /dev/null --size 640x480

# --force trusts another owner: the region is laid out and verifies.
as_nobody sh -c "umask 0; truncate -s 8M $R" || fail "nobody cannot create $R"
start_host --shm "$TEST_NAME" --size 640x480 --force
streaming "--force"
"$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 5 --verify >"$TEST_TMP/dump.out" 2>&1 ||
    fail "--force: $(cat "$TEST_TMP/dump.out")"
stop_host
finish
