# SPDX-License-Identifier: GPL-2.0-or-later
# A PipeWire of a test's own, for the tests that capture through it
# (pipewire.sh; tests/vm/pipewire-pci.sh).  Sourced after lib.sh: a daemon
# with a minimal configuration and WirePlumber (which makes the links),
# in an XDG_RUNTIME_DIR under $TEST_TMP, seeing none of the machine's
# devices; pw_start starts them, and both are killed when the test exits.
PW_PIDS=

# Our own PipeWire world: nothing of the user's session is seen or kept.
export XDG_RUNTIME_DIR="$TEST_TMP/run"
export HOME="$TEST_TMP/home"
export XDG_CONFIG_HOME="$HOME/.config" XDG_STATE_HOME="$HOME/.state"
export XDG_DATA_HOME="$HOME/.local" XDG_CACHE_HOME="$HOME/.cache"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$TEST_TMP/no-bus"
unset DISPLAY WAYLAND_DISPLAY PIPEWIRE_REMOTE PIPEWIRE_DEBUG
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/wireplumber/main.lua.d" \
    "$XDG_CONFIG_HOME/wireplumber/bluetooth.lua.d"
chmod 700 "$XDG_RUNTIME_DIR"

pw_cleanup() {
    for p in $PW_PIDS; do
        kill "$p" 2>/dev/null
    done
    for p in $PW_PIDS; do
        wait "$p" 2>/dev/null
    done
    cleanup
}
trap pw_cleanup EXIT
# Killed (meson's timeout): the daemons go too.
trap 'exit 143' TERM INT HUP

# bg NAME CMD...: CMD in the background, its output in NAME.log; its pid
# in $BG, and killed at the end.
bg() {
    log=$TEST_TMP/$1.log
    shift
    "$@" > "$log" 2>&1 &
    BG=$!
    PW_PIDS="$PW_PIDS $BG"
}

# stop_bg PID [SIGNAL]: that process killed and reaped
stop_bg() {
    kill "-${2:-TERM}" "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# until TEXT CMD...: CMD, every 0.1 s, until it succeeds; fails after 10 s
until_ok() {
    what=$1
    shift
    i=0
    until "$@" > /dev/null 2>&1; do
        [ $i -lt 100 ] || { fail "$what: still not after 10 s"; return 1; }
        sleep 0.1
        i=$((i + 1))
    done
}

has_node() {
    timeout 5 pw-cli ls Node 2>/dev/null | grep -q "node.name = \"$1\""
}

no_node() {
    ! has_node "$1"
}

has_default_metadata() {
    timeout 5 pw-cli ls Metadata 2>/dev/null | grep -q 'metadata.name = "default"'
}

# The daemon: protocol, clients' nodes and streams, links, the metadata
# WirePlumber keeps, and a driver for graphs without one.
cat > "$TEST_TMP/pipewire.conf" <<'CONF'
context.properties = {
    core.daemon = true
    core.name = pipewire-0
    support.dbus = false
}
context.spa-libs = {
    support.* = support/libspa-support
}
context.modules = [
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-metadata }
    { name = libpipewire-module-spa-node-factory }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-client-device }
    { name = libpipewire-module-access }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-link-factory }
    { name = libpipewire-module-session-manager }
]
context.objects = [
    { factory = spa-node-factory
        args = {
            factory.name = support.node.driver
            node.name = Dummy-Driver
            node.group = pipewire.dummy
            priority.driver = 20000
        }
    }
]
CONF
# WirePlumber links streams to their target.  None of the machine's
# devices (ALSA, V4L2, libcamera, Bluetooth) and no D-Bus: only our
# nodes; and no stream target remembered from one run to the next.
cat > "$XDG_CONFIG_HOME/wireplumber/main.lua.d/51-shmcam-test.lua" <<'LUA'
alsa_monitor.enabled = false
v4l2_monitor.enabled = false
libcamera_monitor.enabled = false
default_access.properties["enable-flatpak-portal"] = false
stream_defaults.properties["restore-target"] = false
stream_defaults.properties["restore-props"] = false
LUA
cat > "$XDG_CONFIG_HOME/wireplumber/bluetooth.lua.d/51-shmcam-test.lua" <<'LUA'
bluez_monitor.enabled = false
LUA

# pw_start: the daemon, then WirePlumber (PIPEWIRE, WIREPLUMBER: their
# pids); fails, with the log of the one that did not come up, after 10 s
pw_start() {
    bg pipewire pipewire -c "$TEST_TMP/pipewire.conf"
    PIPEWIRE=$BG
    until_ok "the PipeWire daemon answers" has_node Dummy-Driver ||
        { cat "$TEST_TMP/pipewire.log"; return 1; }
    bg wireplumber wireplumber
    WIREPLUMBER=$BG
    until_ok "WirePlumber runs" has_default_metadata ||
        { cat "$TEST_TMP/wireplumber.log"; return 1; }
}
