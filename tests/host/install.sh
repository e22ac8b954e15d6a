#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make install as a packager runs it, DESTDIR=STAGING meson install: every
# file where it belongs; the staged programs run from there (a pattern
# through /dev/shm, and the example service options through their socket);
# the man pages render and list the options --help gives; the sysusers file
# makes the user the unit runs as; systemd-analyze verify passes on an
# instance of the unit, and of the user unit, silent.  Argument: the build
# directory.
. "$(dirname "$0")/lib.sh"

BUILD=$1

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: no systemd-analyze to verify the unit with (Debian: systemd)"
    exit 77
fi

# The install directories, as the build was configured
dirs=$(meson introspect "$BUILD" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(*[v if v.startswith("/") else o["prefix"] + "/" + v
        for v in (o["prefix"], o["bindir"], o["mandir"], o["datadir"])])')
set -- $dirs
[ $# = 4 ] || { fail "no install directories from meson introspect: $dirs"; finish; }
PREFIX=$1 BINDIR=$2 MANDIR=$3 DATADIR=$4

STAGING=$TEST_TMP/staging
if DESTDIR=$STAGING meson install -C "$BUILD" --no-rebuild --quiet \
        >"$TEST_TMP/install.log" 2>&1; then
    pass "DESTDIR=STAGING meson install -C $BUILD"
else
    cat "$TEST_TMP/install.log"
    fail "meson install exited with an error"
    finish
fi

UNIT=$PREFIX/lib/systemd/system/shmcam-host@.service
USER_UNIT=$PREFIX/lib/systemd/user/shmcam-pipewire@.service
SYSUSERS=$PREFIX/lib/sysusers.d/shmcam.conf
EXAMPLE=$DATADIR/doc/shmcam/example.conf
for f in "$BINDIR/shmcam-host" "$BINDIR/shmcam-dump" \
         "$MANDIR/man1/shmcam-host.1" "$MANDIR/man1/shmcam-dump.1" \
         "$UNIT" "$USER_UNIT" "$SYSUSERS" "$EXAMPLE"; do
    if [ -f "$STAGING$f" ]; then
        pass "installed $f"
    else
        fail "not installed: $f"
    fi
done
outside=$(find "$STAGING" ! -type d | grep -v "^$STAGING$PREFIX/")
[ -z "$outside" ] || fail "installed outside the prefix $PREFIX: $outside"
systemd-analyze unit-paths | grep -qx "$PREFIX/lib/systemd/system" ||
    echo "note: systemd does not read $PREFIX/lib/systemd/system"

# The staged programs, run from the staging directory
SHMCAM_HOST=$STAGING$BINDIR/shmcam-host
SHMCAM_DUMP=$STAGING$BINDIR/shmcam-dump
for p in "$SHMCAM_HOST" "$SHMCAM_DUMP"; do
    if "$p" --help >"$TEST_TMP/help" 2>&1; then
        pass "${p#"$STAGING"} --help"
    else
        fail "${p#"$STAGING"} --help exited $?: $(cat "$TEST_TMP/help")"
    fi
done
start_host --pattern --shm "$TEST_NAME" --size 320x240 --fps 60
if "$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 30 --verify --timeout 20 \
        >"$TEST_TMP/dump.out" 2>&1 &&
        grep -qx "$(verify_line 30)" "$TEST_TMP/dump.out"; then
    pass "staged shmcam-host --pattern read back by the staged shmcam-dump"
else
    fail "staged pattern run: $(cat "$TEST_TMP/dump.out" "$TEST_TMP/host.log")"
fi
stop_host

# Each man page: rendered, its name, every option of --help
for p in shmcam-host shmcam-dump; do
    page=$STAGING$MANDIR/man1/$p.1
    [ -f "$page" ] || continue
    if command -v man >/dev/null 2>&1; then
        LC_ALL=C MANWIDTH=80 man -l "$page" >"$TEST_TMP/man" 2>"$TEST_TMP/man.err"
        rc=$?
        if [ "$rc" != 0 ] || [ -s "$TEST_TMP/man.err" ]; then
            fail "man -l $p.1 exited $rc: $(cat "$TEST_TMP/man.err")"
        fi
        look() { grep -q -e "^ *\(-[a-z], \)\{0,1\}$1\([= ]\|$\)" "$TEST_TMP/man"; }
    else
        echo "note: no man(1); looking for the options in the troff source"
        cp "$page" "$TEST_TMP/man"
        look() { grep -qF -e "$(echo "$1" | sed 's/-/\\-/g')" "$TEST_TMP/man"; }
    fi
    grep -q "^ *$p - " "$TEST_TMP/man" || grep -q "^$p \\\\- " "$TEST_TMP/man" ||
        fail "$p.1: no NAME line for $p"
    opts=$("$STAGING$BINDIR/$p" --help | sed -n 's/^ *\(-h, \)\{0,1\}\(--[a-z-]*\).*/\2/p')
    [ -n "$opts" ] || fail "$p --help lists no options"
    missing=
    for o in $opts; do
        look "$o" || missing="$missing $o"
    done
    if [ -n "$missing" ]; then
        fail "$p.1 does not describe:$missing"
    else
        pass "$p.1 renders and describes $(echo "$opts" | tr '\n' ' ')"
    fi
done

# The sysusers file makes the user and group the unit runs as
unit_user=$(sed -n 's/^User=//p' "$STAGING$UNIT")
unit_group=$(sed -n 's/^Group=//p' "$STAGING$UNIT")
mkdir -p "$TEST_TMP/root/etc"
if systemd-sysusers --root="$TEST_TMP/root" "$STAGING$SYSUSERS" \
        >"$TEST_TMP/sysusers.log" 2>&1; then
    pass "systemd-sysusers ${SYSUSERS##*/}"
else
    fail "systemd-sysusers ${SYSUSERS##*/}: $(cat "$TEST_TMP/sysusers.log")"
fi
grep -q "^$unit_user:x:[0-9]*:[0-9]*:.*:[^:]*nologin$" "$TEST_TMP/root/etc/passwd" ||
    fail "sysusers made no system user '$unit_user' (the unit's User=)"
grep -q "^$unit_group:x:" "$TEST_TMP/root/etc/group" ||
    fail "sysusers made no group '$unit_group' (the unit's Group=)"
pass "the unit's User=$unit_user and Group=$unit_group are what sysusers makes"

# The example options, as the unit runs them, with its socket in the
# runtime directory the unit makes: here moved into the test's directory.
rundir=/run/$(sed -n 's/^RuntimeDirectory=//p' "$STAGING$UNIT")
opts=$(sed -n 's/^SHMCAM_HOST_OPTS=//p' "$STAGING$EXAMPLE")
sock=$(echo "$opts" | sed -n 's/.*--listen \([^ ]*\).*/\1/p')
if [ "$(echo "$opts" | wc -l)" != 1 ] || [ -z "$opts" ]; then
    fail "example.conf does not set SHMCAM_HOST_OPTS once: $opts"
elif [ "${sock%/*}" != "$rundir" ]; then
    fail "example.conf's --listen '$sock' is not in the unit's $rundir"
else
    start_host $(echo "$opts" | sed "s|$rundir/|$TEST_TMP/|g")
    sock=$TEST_TMP/${sock##*/}
    i=0
    while [ ! -S "$sock" ] && [ $i -lt 200 ] && kill -0 "$HOST_PID" 2>/dev/null; do
        sleep 0.05
        i=$((i + 1))
    done
    if ! kill -0 "$HOST_PID" 2>/dev/null; then
        wait "$HOST_PID"
        fail "example.conf's options: shmcam-host exited $?: $(cat "$TEST_TMP/host.log")"
        HOST_PID=
    elif [ "$(stat -c %a "$sock" 2>/dev/null)" != 660 ]; then
        fail "example.conf's socket has mode $(stat -c %a "$sock" 2>&1), not 660"
    elif "$SHMCAM_DUMP" --connect "$sock" --frames 10 --verify --timeout 20 \
            >"$TEST_TMP/dump.out" 2>&1 &&
            grep -qx "$(verify_line 10)" "$TEST_TMP/dump.out"; then
        pass "example.conf's options: shmcam-host $opts"
    else
        fail "example.conf's options: $(cat "$TEST_TMP/dump.out" "$TEST_TMP/host.log")"
    fi
    [ -z "$HOST_PID" ] || stop_host
fi

# systemd-analyze verify on an instance, the unit's ExecStart pointed at
# the staged binary and its man: page looked up in the staging directory.
# It warns about a bad line and goes on with exit status 0: any word about
# the unit is a failure.
mkdir -p "$TEST_TMP/units"
sed "s|^ExecStart=$BINDIR/|ExecStart=$STAGING$BINDIR/|" "$STAGING$UNIT" \
    >"$TEST_TMP/units/shmcam-host@.service"
man_check=--man=yes
command -v man >/dev/null 2>&1 || man_check=--man=no
SYSTEMD_UNIT_PATH=$TEST_TMP/units: MANPATH=$STAGING$MANDIR \
    systemd-analyze verify $man_check shmcam-host@cam0.service >"$TEST_TMP/verify" 2>&1
rc=$?
if [ "$rc" != 0 ] || grep -q shmcam "$TEST_TMP/verify"; then
    fail "systemd-analyze verify shmcam-host@cam0.service exited $rc: $(cat "$TEST_TMP/verify")"
else
    pass "systemd-analyze verify shmcam-host@cam0.service"
fi

# The user unit (--pipewire), by the user manager's rules: its own
# runtime directory and home, here the test's.
mkdir -p "$TEST_TMP/user-units" "$TEST_TMP/user-run"
chmod 700 "$TEST_TMP/user-run"
sed "s|^ExecStart=$BINDIR/|ExecStart=$STAGING$BINDIR/|" "$STAGING$USER_UNIT" \
    >"$TEST_TMP/user-units/shmcam-pipewire@.service"
SYSTEMD_UNIT_PATH=$TEST_TMP/user-units: MANPATH=$STAGING$MANDIR \
    XDG_RUNTIME_DIR=$TEST_TMP/user-run HOME=$TEST_TMP \
    systemd-analyze --user verify $man_check shmcam-pipewire@cam0.service \
    >"$TEST_TMP/verify" 2>&1
rc=$?
if [ "$rc" != 0 ] || grep -q shmcam "$TEST_TMP/verify"; then
    fail "systemd-analyze --user verify shmcam-pipewire@cam0.service exited $rc: $(cat "$TEST_TMP/verify")"
else
    pass "systemd-analyze --user verify shmcam-pipewire@cam0.service"
fi
finish
