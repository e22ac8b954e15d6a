# SPDX-License-Identifier: GPL-2.0-or-later
#
# The sink of the pipewire group (tests/vm/pipewire.sh): in the other
# guest, shmcam-host captures vivid through PipeWire, which a PipeWire
# application captures too (guest-trixie/pipewire-source.sh).  Here the
# same camera streams through shmcam.ko: every frame byte for byte one of
# vivid's (REF_MD5S, the source guest's reference, as lib.sh's
# frames_are_vivids reads it), one after the other at vivid's rate.

ref_up() {
    echo "$REF_MD5S" | tr ' ' '\n' | grep . > /tmp/ref.md5
    echo "reference: $(wc -l < /tmp/ref.md5) frames"
    [ "$(wc -l < /tmp/ref.md5)" -ge $REF_ROUND ]
}

# 40 frames at the source's format; a loaded machine may lose up to four.
pipewire_frames() {
    rm -f /tmp/pw.raw
    v4l2-ctl -d "$DEV" --info | grep -e 'Card type' -e 'Driver name'
    v4l2-ctl -d "$DEV" \
        --set-fmt-video=width=$REF_W,height=$REF_H,pixelformat=YUYV \
        --set-parm=5 --stream-mmap --stream-count=40 --stream-to=/tmp/pw.raw \
        --verbose > /tmp/pw.out 2>&1 || { tail -n 20 /tmp/pw.out; return 1; }
    echo "sequence gaps: $(seq_gaps /tmp/pw.out)"
    split_frames /tmp/pw.raw $REF_FRAME /tmp/pwframes &&
        frames_are_vivids /tmp/pwframes 40 || return 1
    echo "skipped $VIVID_SKIPPED frames (at most 4)"
    [ $VIVID_SKIPPED -le 4 ]
}

check shmcam-loads shmcam_up
check pipewire-reference ref_up
check pipewire-frames-through-shmcam pipewire_frames
finish
