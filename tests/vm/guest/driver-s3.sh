# SPDX-License-Identifier: GPL-2.0-or-later
#
# Suspend to RAM mid-stream (QEMU resets every device on wake-up), woken
# by the host through the monitor: the stream goes on, frames before and
# after verify, with one gap in the sequence where the guest slept, and
# the frame interrupts work again.

check s3-stream-goes-on s3_stream
check capture-after-s3 capture_verify YUYV 640x480 10
finish
