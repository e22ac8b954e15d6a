/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shmcam: differences between the kernels the module builds against
 * (6.1 and 6.12 are tested).  Every version check lives here.
 */
#ifndef SHMCAM_COMPAT_H
#define SHMCAM_COMPAT_H

#include <linux/hrtimer.h>
#include <linux/version.h>
#include <media/videobuf2-v4l2.h>

/* vb2 takes q->lock itself around waits from 6.13 on. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define SHMCAM_VB2_WAIT_OPS \
	.wait_prepare = vb2_ops_wait_prepare, \
	.wait_finish = vb2_ops_wait_finish,
#else
#define SHMCAM_VB2_WAIT_OPS
#endif

/* hrtimer_setup() replaced hrtimer_init() plus a function pointer. */
static inline void
shmcam_hrtimer_setup(struct hrtimer *timer,
		     enum hrtimer_restart (*fn)(struct hrtimer *))
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
	hrtimer_init(timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	timer->function = fn;
#else
	hrtimer_setup(timer, fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
#endif
}

#endif /* SHMCAM_COMPAT_H */
