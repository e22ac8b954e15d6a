#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every bad input gets its exact message and a non-zero exit, and a region
# that was refused is left byte for byte as it was.
. "$(dirname "$0")/lib.sh"

H=$SHMCAM_HOST
R=/dev/shm/$TEST_NAME
# The regions made here are 0600, as shmcam-host wants them by default
# (owner and mode checks: squat.sh).
umask 077

no_region() {
    [ -e "$R" ] && fail "$1: a region was left in /dev/shm" && rm -f "$R"
}

# the command line: exit 2, nothing created
expect_run 2 "shmcam-host: unknown format 'RGB3' (use one of YUYV, NV12, YU12, MJPG)" \
    "$H" --format RGB3 --shm "$TEST_NAME"
expect_run 2 "shmcam-host: size 641x480 is odd (use an even width and height, e.g. 640x480)" \
    "$H" --size 641x480 --shm "$TEST_NAME"
expect_run 2 "shmcam-host: size 0x0 is out of range (width 16..7680, height 16..4320)" \
    "$H" --size 0x0 --shm "$TEST_NAME"
expect_run 2 "shmcam-host: invalid size '1920' (use WIDTHxHEIGHT, e.g. 1280x720)" \
    "$H" --size 1920 --shm "$TEST_NAME"
expect_run 2 "shmcam-host: invalid frame rate '0' (use frames per second, 1..1000, e.g. 30 or 30000/1001)" \
    "$H" --fps 0 --shm "$TEST_NAME"
expect_run 2 "shmcam-host: --slots 2 is out of range (use 3..16)" \
    "$H" --slots 2 --shm "$TEST_NAME"
expect_run 2 "shmcam-host: --camera-io userptr is not auto or mmap (see shmcam-host --help)" \
    "$H" --camera /dev/video0 --camera-io userptr --shm "$TEST_NAME"
expect_run 2 "shmcam-host: --camera-io is for --camera (see shmcam-host --help)" \
    "$H" --camera-io mmap --shm "$TEST_NAME"
expect_run 2 "shmcam-host: Unknown option --bogus (see shmcam-host --help)" \
    "$H" --bogus
expect_run 2 "shmcam-host: unexpected argument 'extra' (see shmcam-host --help)" \
    "$H" --shm "$TEST_NAME" extra
expect_run 2 "shmcam-host: choose one source: --pattern, --camera, --file or --pipewire (see shmcam-host --help)" \
    "$H" --pattern --file /dev/zero --shm "$TEST_NAME"
expect_run 2 "shmcam-host: choose one region: --shm NAME, --region PATH or --listen SOCKET (--pci-listen SOCKET: the guests bring theirs)" \
    "$H" --shm "$TEST_NAME" --region "$R"
expect_run 2 "shmcam-host: --region-size is for a region shmcam-host creates (--shm NAME or --listen SOCKET); --region PATH has the size it was created with" \
    "$H" --region "$R" --region-size 4M
expect_run 2 "shmcam-host: --region-size 64K is too small: 1280x720 YUYV with 3 slots needs 8 MiB (--region-size 8M)" \
    "$H" --shm "$TEST_NAME" --region-size 64K
expect_run 2 "shmcam-host: --keep is for a --shm region (shmcam-host removes no other region at exit)" \
    "$H" --keep --region "$R"
expect_run 2 "shmcam-host: --pci-listen needs a socket path (e.g. --pci-listen /run/shmcam-pci.sock)" \
    "$H" --pci-listen ""
expect_run 2 "shmcam-host: --listen and --pci-listen need two different sockets (see shmcam-host --help)" \
    "$H" --listen /tmp/"$TEST_NAME".sock --pci-listen /tmp/"$TEST_NAME".sock
expect_run 2 "shmcam-host: --shm NAME must be a name without '/' (e.g. --shm cam0)" \
    "$H" --shm a/b
expect_run 2 "shmcam-host: --mode 0999 is not a file mode (use octal, e.g. 0600)" \
    "$H" --mode 0999 --shm "$TEST_NAME"
no_region "bad command lines"

expect_run 2 "shmcam-dump: unknown format 'RGB3' (use one of YUYV, NV12, YU12, MJPG)" \
    "$SHMCAM_DUMP" --input /dev/null --format RGB3 --size 640x480
expect_run 2 "shmcam-dump: Unknown option --bogus (see shmcam-dump --help)" \
    "$SHMCAM_DUMP" --bogus
expect_run 1 "shmcam-dump: cannot map region $TEST_TMP: Is a directory" \
    "$SHMCAM_DUMP" --region "$TEST_TMP" --frames 1

# a region file that exists must be left exactly as it was
# check_untouched FILE SUM WHAT
check_untouched() {
    [ "$(sha256sum <"$1")" = "$2" ] || fail "$3: the region was modified"
}

# too small for the format: names both sizes and the fix
truncate -s 1M "$R"
sum=$(sha256sum <"$R")
expect_run 1 "shmcam-host: region $R is 1 MiB; 1920x1080 YUYV with 3 slots needs 16 MiB (a smaller --size or a bigger region)" \
    "$H" --region "$R" --size 1920x1080
check_untouched "$R" "$sum" "too small"
# room for fewer slots than asked: says how many fit
truncate -s 16M "$R"
sum=$(sha256sum <"$R")
expect_run 1 "shmcam-host: region $R is 16 MiB; 1920x1080 YUYV with 16 slots needs 64 MiB (--slots 4 or a bigger region)" \
    "$H" --region "$R" --size 1920x1080 --slots 16
check_untouched "$R" "$sum" "too few slots"
rm -f "$R"

# not a power of two
truncate -s 3000000 "$R"
sum=$(sha256sum <"$R")
expect_run 1 "shmcam-host: region $R is 3000000 bytes, not a power of two between 64 KiB and 64 GiB (make it 2 MiB)" \
    "$H" --region "$R" --size 640x480
check_untouched "$R" "$sum" "not a power of two"
rm -f "$R"

# someone else's data: refused, untouched; --force takes it
head -c 4M /dev/urandom >"$R"
sum=$(sha256sum <"$R")
expect_run 1 "shmcam-host: region $R holds data that is not a shmcam region (use another region, or --force to overwrite it)" \
    "$H" --region "$R" --size 640x480
check_untouched "$R" "$sum" "foreign region"
expect_run 1 "shmcam-host: region $R holds data that is not a shmcam region (use another region, or --force to overwrite it)" \
    "$H" --shm "$TEST_NAME" --size 640x480
check_untouched "$R" "$sum" "foreign shm region"

# a newer ABI: the magic with major 2
python3 - "$R" <<'PY'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    f.write(struct.pack('<QHH', 0x00004d41434d4853, 2, 0))
PY
sum=$(sha256sum <"$R")
expect_run 1 "shmcam-host: region $R has shmcam ABI 2, newer than this shmcam-host's 1 (update shmcam-host, or --force to overwrite it)" \
    "$H" --region "$R" --size 640x480
check_untouched "$R" "$sum" "newer ABI"
expect_run 1 "shmcam-dump: region $R has a shmcam ABI this reader does not know (update shmcam-dump)" \
    "$SHMCAM_DUMP" --region "$R" --frames 1 --timeout 1
check_untouched "$R" "$sum" "newer ABI, reader"

# --force overwrites it, and the result is a region that verifies
start_host --region "$R" --size 640x480 --force
# until it has laid the region out: our ABI, streaming
wait_streaming "$R" abi_major 1
"$SHMCAM_DUMP" --region "$R" --frames 10 --verify >"$TEST_TMP/dump.out" 2>&1 ||
    fail "--force: $(cat "$TEST_TMP/dump.out")"
grep -qx "$(verify_line 10)" "$TEST_TMP/dump.out" || fail "--force: no verify line"

# a second producer on a running one is refused at once, --force or not,
# and the first goes on
expect_run 1 "shmcam-host: region $R is in use by another shmcam-host on this machine (stop it first)" \
    "$H" --region "$R" --size 640x480
expect_run 1 "shmcam-host: region $R is in use by another shmcam-host on this machine (stop it first)" \
    "$H" --shm "$TEST_NAME" --size 640x480 --force
"$SHMCAM_DUMP" --region "$R" --frames 10 --verify >"$TEST_TMP/dump.out" 2>&1 ||
    fail "busy: first producer disturbed: $(cat "$TEST_TMP/dump.out")"
stop_host
[ -e "$R" ] || fail "an attached region was removed"
[ "$(header "$R" state)" = 0 ] || fail "state after SIGTERM is not stopped"
rm -f "$R"

# files that cannot be regions
expect_run 1 "shmcam-host: region $TEST_TMP/none does not exist (create it, e.g. truncate -s 2M $TEST_TMP/none, or use --shm NAME)" \
    "$H" --region "$TEST_TMP/none" --size 640x480
: >"$TEST_TMP/empty"
expect_run 1 "shmcam-host: region $TEST_TMP/empty is empty (give it a size, e.g. truncate -s 2M $TEST_TMP/empty)" \
    "$H" --region "$TEST_TMP/empty" --size 640x480
finish
