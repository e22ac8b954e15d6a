#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fake-apt-cache.sh INDEX SERIES COMMAND ARGS...: answers kernels.sh's
# questions (APT_CACHE) from apt-cache output in the directory INDEX,
# which tests/unit/test-kernels.sh writes: SERIES.depends is `apt-cache
# depends linux-image-amd64` as the series' suite answers it,
# SERIES.madison `apt-cache madison` of the ABI's image and headers.
index=$1 series=$2 cmd=$3
shift 3
case "$cmd" in
depends)
    [ "$1" = linux-image-amd64 ] && cat "$index/$series.depends" ;;
madison)
    for p do
        grep -F "$p |" "$index/$series.madison" | grep "^ *$p |"
    done
    exit 0 ;;
*)
    echo "fake-apt-cache: unexpected apt-cache $cmd" >&2
    exit 2 ;;
esac
