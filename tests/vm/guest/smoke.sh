# SPDX-License-Identifier: GPL-2.0-or-later
#
# Harness smoke test, no shmcam involved: the kernel boots, vivid loads,
# trixie's v4l2-compliance and v4l2-ctl run against it.  vivid has known
# failures of its own on 6.12, so only the run itself is checked here.

vivid_loads() {
    modload vivid n_devs=1 node_types=0x1 input_types=0x81 &&
        [ -c "$(video_node vivid)" ]
}
compliance_runs() {
    v4l2-compliance -d "$(video_node vivid)" > /tmp/c.out 2>&1
    cat /tmp/c.out
    grep -q '^Total for vivid device .*: [0-9]*, Succeeded: [0-9]*' /tmp/c.out
}
capture_works() {
    v4l2-ctl -d "$(video_node vivid)" --set-fmt-video=width=320,height=240,pixelformat=YUYV \
        --stream-mmap --stream-count=5 --stream-to=/tmp/v.raw &&
        [ "$(wc -c < /tmp/v.raw)" -eq $((320 * 240 * 2 * 5)) ]
}
check vivid-loads vivid_loads
check vivid-compliance-runs compliance_runs
check vivid-capture capture_works
finish
