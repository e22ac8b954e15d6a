/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ABI numbers of docs/specs/shmcam.rst, checked at run time too (the
 * header's static assertions only prove the header agrees with itself).
 */
#include <glib.h>

#include "shmcam-reader.h"

#define OFF(type, field, value) \
    g_assert_cmpuint(offsetof(struct type, field), ==, value)

static void test_sizes(void)
{
    g_assert_cmpuint(sizeof(struct shmcam_header), ==, 4096);
    g_assert_cmpuint(sizeof(struct shmcam_consumer), ==, 128);
    g_assert_cmpuint(sizeof(struct shmcam_slot), ==, 64);
    g_assert_cmpuint(sizeof(struct shmcam_cap), ==, 80);
    g_assert_cmpuint(sizeof(struct shmcam_format), ==, 32);
    g_assert_cmpuint(sizeof(struct shmcam_fract), ==, 8);
    g_assert_cmphex(SHMCAM_MAGIC, ==, 0x00004d41434d4853ULL);
    g_assert_cmpmem(&(uint64_t){ SHMCAM_MAGIC }, 8, "SHMCAM\0\0", 8);
    g_assert_cmpuint(SHMCAM_CONSUMER_OFFSET, ==, 0x1000);
    g_assert_cmpuint(SHMCAM_DATA_OFFSET, ==, 0x2000);
    g_assert_cmphex(SHMCAM_FMT_YUYV, ==, 0x56595559);
    g_assert_cmphex(SHMCAM_FMT_NV12, ==, 0x3231564e);
    g_assert_cmphex(SHMCAM_FMT_YUV420, ==, 0x32315559);
    g_assert_cmphex(SHMCAM_FMT_MJPEG, ==, 0x47504a4d);
}

static void test_header_offsets(void)
{
    OFF(shmcam_header, magic, 0);
    OFF(shmcam_header, abi_major, 8);
    OFF(shmcam_header, abi_minor, 10);
    OFF(shmcam_header, header_size, 12);
    OFF(shmcam_header, region_size, 16);
    OFF(shmcam_header, session_id, 24);
    OFF(shmcam_header, heartbeat, 32);
    OFF(shmcam_header, heartbeat_ms, 40);
    OFF(shmcam_header, state, 44);
    OFF(shmcam_header, slot_count, 48);
    OFF(shmcam_header, slot_size, 52);
    OFF(shmcam_header, data_offset, 56);
    OFF(shmcam_header, latest_frame, 64);
    OFF(shmcam_header, format_gen, 72);
    OFF(shmcam_header, num_caps, 76);
    OFF(shmcam_header, format, 80);
    OFF(shmcam_header, card, 112);
    OFF(shmcam_header, consumer_count, 144);
    OFF(shmcam_header, meta_seq, 148);
    OFF(shmcam_header, heartbeat_ns, 152);
    OFF(shmcam_header, color, 160);
    OFF(shmcam_header, slots_ahead, 164);
    OFF(shmcam_header, ctrl_offset, 168);
    OFF(shmcam_header, reserved1, 176);
    OFF(shmcam_header, slots, 224);
    OFF(shmcam_header, caps, 1248);
    OFF(shmcam_header, cap_sizes, 3168);
    OFF(shmcam_header, reserved2, 3360);
}

static void test_other_offsets(void)
{
    OFF(shmcam_slot, seq, 0);
    OFF(shmcam_slot, bytesused, 4);
    OFF(shmcam_slot, frame, 8);
    OFF(shmcam_slot, timestamp_ns, 16);
    OFF(shmcam_slot, format_gen, 24);
    OFF(shmcam_slot, flags, 28);
    OFF(shmcam_slot, format, 32);
    OFF(shmcam_format, pixelformat, 0);
    OFF(shmcam_format, width, 4);
    OFF(shmcam_format, height, 8);
    OFF(shmcam_format, bytesperline, 12);
    OFF(shmcam_format, sizeimage, 16);
    OFF(shmcam_format, colorspace, 20);
    OFF(shmcam_format, interval, 24);
    OFF(shmcam_cap, num_intervals, 12);
    OFF(shmcam_cap, intervals, 16);
    OFF(shmcam_consumer, owner, 0);
    OFF(shmcam_consumer, heartbeat, 8);
    OFF(shmcam_consumer, flags, 16);
    OFF(shmcam_consumer, request_gen, 20);
    OFF(shmcam_consumer, req_pixelformat, 24);
    OFF(shmcam_consumer, req_width, 28);
    OFF(shmcam_consumer, req_height, 32);
    OFF(shmcam_consumer, req_interval, 40);
    OFF(shmcam_consumer, last_frame, 48);
    OFF(shmcam_consumer, last_timestamp_ns, 56);
    OFF(shmcam_consumer, frames, 64);
    OFF(shmcam_consumer, dropped, 72);
    OFF(shmcam_consumer, ctrl_serial, 80);
    OFF(shmcam_consumer, ctrl_id, 84);
    OFF(shmcam_consumer, ctrl_value, 88);
    OFF(shmcam_consumer, reserved1, 96);
}

/* ABI 1.4: the control table, as docs/specs/shmcam.rst lays it out. */
static void test_ctrl_offsets(void)
{
    g_assert_cmpuint(sizeof(struct shmcam_ctrl_table), ==, 0x5000);
    g_assert_cmpuint(sizeof(struct shmcam_ctrl), ==, 96);
    g_assert_cmpuint(sizeof(struct shmcam_ctrl_menu), ==, 48);
    g_assert_cmpuint(sizeof(struct shmcam_ctrl_answer), ==, 16);
    OFF(shmcam_ctrl_table, seq, 0);
    OFF(shmcam_ctrl_table, generation, 4);
    OFF(shmcam_ctrl_table, values_gen, 8);
    OFF(shmcam_ctrl_table, num_ctrls, 12);
    OFF(shmcam_ctrl_table, num_menu, 16);
    OFF(shmcam_ctrl_table, ctrls, 64);
    OFF(shmcam_ctrl_table, menu, 4672);
    OFF(shmcam_ctrl_table, answers, 16960);
    OFF(shmcam_ctrl_table, reserved1, 17472);
    OFF(shmcam_ctrl, id, 0);
    OFF(shmcam_ctrl, type, 4);
    OFF(shmcam_ctrl, flags, 8);
    OFF(shmcam_ctrl, menu_first, 12);
    OFF(shmcam_ctrl, menu_count, 14);
    OFF(shmcam_ctrl, name, 16);
    OFF(shmcam_ctrl, minimum, 48);
    OFF(shmcam_ctrl, maximum, 56);
    OFF(shmcam_ctrl, step, 64);
    OFF(shmcam_ctrl, default_value, 72);
    OFF(shmcam_ctrl, value, 80);
    OFF(shmcam_ctrl_menu, index, 0);
    OFF(shmcam_ctrl_menu, value, 8);
    OFF(shmcam_ctrl_menu, name, 16);
    OFF(shmcam_ctrl_answer, serial, 0);
    OFF(shmcam_ctrl_answer, error, 4);
    OFF(shmcam_ctrl_answer, value, 8);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/abi/sizes", test_sizes);
    g_test_add_func("/abi/header-offsets", test_header_offsets);
    g_test_add_func("/abi/slot-format-cap-consumer-offsets", test_other_offsets);
    g_test_add_func("/abi/ctrl-offsets", test_ctrl_offsets);
    return g_test_run();
}
