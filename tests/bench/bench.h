/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the make bench programs share: a clock in seconds and the median
 * of a round's figures.
 */
#ifndef SHMCAM_BENCH_H
#define SHMCAM_BENCH_H

#include <stdlib.h>
#include <time.h>

static inline double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The median of @v's @n figures (sorts @v). */
static inline double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), bench_cmp_double);
    return v[n / 2];
}

#endif /* SHMCAM_BENCH_H */
