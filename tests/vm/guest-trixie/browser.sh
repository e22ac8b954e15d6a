# SPDX-License-Identifier: GPL-2.0-or-later
#
# The browser group: headless Chromium opens shmcam's camera with
# getUserMedia (guest/browser.html, a file:// page: Chromium counts it a
# secure context) and draws its frames to a canvas.  The page reports
# what it saw on the console; the checks here compare that with what the
# producer publishes: EXPECT_LABEL (the card), EXPECT_SIZE (WxH) and
# EXPECT_FPS.  The page's lines, Chromium's log and the two frames it
# drew go to the share's out/.

OUT=$SHARE/out
mkdir -p "$OUT"

# shmcam.ko from the share, installed and loaded as a user would.
shmcam_ready() {
    module_install "$SHARE/shmcam.ko" && shmcam_up &&
        v4l2-ctl -d "$DEV" --info
}

# browser_run: Chromium on the page until it reports "done", its lines in
# $OUT/browser.out.  Under TCG the page takes two to three minutes, most
# of it Chromium starting; a line every minute says how far it got.  The
# hang guard (BROWSER_WAIT seconds) is far above that; when it fires, the
# end of Chromium's log says where the page stopped.
browser_run() {
    _profile=$(mktemp -d /tmp/chromium-profile.XXXXXX)
    _url="file://$SHARE/guest/browser.html?width=${EXPECT_SIZE%x*}&height=${EXPECT_SIZE#*x}&label=shmcam"
    _t0=$(date +%s)
    # One process for the GPU's work and no background services: under
    # TCG every process and service Chromium starts costs seconds.
    chromium --headless=new --no-sandbox --use-fake-ui-for-media-stream \
        --disable-gpu --in-process-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update \
        --disable-extensions --disable-default-apps --disable-breakpad \
        --disable-features=Translate,MediaRouter,OptimizationHints \
        --password-store=basic --mute-audio \
        --disable-sync --user-data-dir="$_profile" \
        --enable-logging=stderr --v=0 "$_url" > "$OUT/chromium.log" 2>&1 &
    _pid=$!
    _ok=
    _next=60
    while kill -0 $_pid 2>/dev/null; do
        if grep -q '"SHMCAM-BROWSER: done' "$OUT/chromium.log"; then
            _ok=1
            break
        fi
        _t=$(($(date +%s) - _t0))
        [ "$_t" -ge "${BROWSER_WAIT:-1200}" ] && break
        if [ "$_t" -ge "$_next" ]; then
            echo "page: $_t s, $(grep -c '"SHMCAM-BROWSER: ' "$OUT/chromium.log") lines so far"
            _next=$((_next + 60))
        fi
        sleep 1
    done
    echo "page finished: ${_ok:-no} after $(($(date +%s) - _t0)) s"
    if [ -z "$_ok" ]; then
        echo "the end of Chromium's log:"
        grep -v -e 'dbus/' -e '-png ' "$OUT/chromium.log" | tail -n 15 | cut -c1-240
    fi
    kill $_pid 2>/dev/null
    _i=0
    while kill -0 $_pid 2>/dev/null && [ $_i -lt 20 ]; do
        sleep 0.5
        _i=$((_i + 1))
    done
    kill -KILL $_pid 2>/dev/null
    wait $_pid 2>/dev/null
    # [..:INFO:CONSOLE:NN] "SHMCAM-BROWSER: KEY VALUE", source: URL (NN)
    sed -n 's/^.*:INFO:CONSOLE[^"]*"SHMCAM-BROWSER: \(.*\)", source: .*$/\1/p' \
        "$OUT/chromium.log" > "$OUT/browser.out"
    for _f in frame1 frame2; do
        sed -n "s/^$_f-png data:image\/png;base64,//p" "$OUT/browser.out" |
            base64 -d > "$OUT/$_f.png" 2>/dev/null
    done
    grep -v -e '-png ' "$OUT/browser.out"
    [ -n "$_ok" ] && ! grep -q '^error ' "$OUT/browser.out"
}

# fact KEY: the value the page reported for KEY.
fact() {
    sed -n "s/^$1 //p" "$OUT/browser.out" | head -n 1
}

# is KEY VALUE: the page reported exactly VALUE for KEY.
is() {
    _v=$(fact "$1")
    echo "$1: '$_v', expected '$2'"
    [ "$_v" = "$2" ]
}

camera_listed() {
    is label "\"$EXPECT_LABEL\"" && is track-label "\"$EXPECT_LABEL\"" &&
        is same-device true
}

track_size() {
    is width "${EXPECT_SIZE%x*}" && is height "${EXPECT_SIZE#*x}" &&
        is video-size "$EXPECT_SIZE"
}

# frame_bars N: frame N shows the test pattern's eight colour bars, at
# least 95 of 100 sampled pixels the colour of the bar expected there.
frame_bars() {
    _b=$(fact "frame$1-bars")
    echo "frame $1: ${_b:-nothing} (fraction of pixels as the bars, their shift)"
    [ -n "$_b" ] && awk -v m="${_b%% *}" 'BEGIN { exit !(m >= 0.95) }'
}

# The pattern moves 4 pixels to the right a frame: the second frame's
# bars are shifted from the first's, and most pixels changed.
frames_move() {
    _s1=$(fact frame1-bars | sed -n 's/.* shift //p')
    _s2=$(fact frame2-bars | sed -n 's/.* shift //p')
    _d=$(fact pixels-differ)
    echo "shifts $_s1 and $_s2, $_d pixels differ"
    [ -n "$_s1" ] && [ -n "$_s2" ] && [ "$_s1" != "$_s2" ] &&
        [ "${_d%% *}" -gt $((${_d##* } / 2)) ]
}

check shmcam-loads shmcam_ready
check browser-page-runs browser_run
check camera-listed camera_listed
check track-size track_size
check track-frame-rate is frame-rate "$EXPECT_FPS"
check frame1-shows-pattern frame_bars 1
check frame2-shows-pattern frame_bars 2
check frames-move frames_move
finish
