// SPDX-License-Identifier: GPL-2.0-only
/*
 * shmcam: the producer's controls (ABI 1.4) as V4L2 controls
 *
 * The producer publishes a table of controls in the region; this file
 * mirrors it in a control handler: same ids, types, names, ranges, menus
 * and flags.  A change asked here goes to the producer as a request in
 * this guest's consumer area, and the value it applied is what the
 * control keeps; a change made on the host shows as a new value and a
 * V4L2_EVENT_CTRL, with no request sent back.
 *
 * Lifetime.  Every file handle points at the handler (fh->ctrl_handler),
 * and control event subscriptions hang off its controls, so a handler
 * with a file open must never be freed.  The handler therefore lives in
 * a struct shmcam_ctrls of its own, and it is replaced only when no file
 * is open: at the first open, under s->lock (every open and release takes
 * it) and poll_lock (the worker only runs with a file open, under it).
 * Then:
 *
 *  - the table's controls are the same as the handler's (same ids, types,
 *    names, ranges, flags and menus; values aside): the handler is kept
 *    and only its values are updated;
 *  - otherwise (another camera, a table that appeared or went away) a new
 *    handler is built; only once it is complete does it replace the old,
 *    which is then freed.  A build that fails keeps the old one.
 *
 * While files are open the set of controls stays as it is: a control the
 * new table still has, unchanged, gets its values updated; any other one
 * keeps its last value, and a change asked for it is answered by the
 * producer (EINVAL: no such control).  The next first open shows the new
 * set.
 *
 * Locking.  The handler's lock protects the struct shmcam_ctrls (scratch
 * table copy included).  Ioctls take s->lock, then the handler's lock.
 * The worker holds poll_lock and only ever tries the handler's lock: a
 * request waiting for its answer (up to a second) never holds up frames;
 * the values are taken at a later poll instead.
 *
 * The region is shared with the producer and possibly other guests: only
 * checked copies of the table (shmcam_ctrls_read()) are used, never the
 * table in place.
 */

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <media/v4l2-ctrls.h>

#include "shmcam-drv.h"

/* How long a request waits for the producer's answer. */
#define SHMCAM_CTRL_TIMEOUT_MS	1000
/* Menu indexes a V4L2 menu control can have (menu_skip_mask is a u64). */
#define SHMCAM_CTRL_MENU_INDEXES	64

struct shmcam_ctrls {
	struct v4l2_ctrl_handler hdl;
	struct shmcam *s;
	bool from_host;		/* setting the producer's values: no request */
	bool seen;		/* generation and values_gen below are set */
	bool warned;		/* this handler's table was found invalid */
	u32 generation;		/* the table's, as last taken */
	u32 values_gen;
	unsigned int num;	/* controls in desc[] and ctrl[] */
	/* The table the controls were built from (names, menus stay here). */
	struct shmcam_ctrl desc[SHMCAM_MAX_CTRLS];
	struct shmcam_ctrl_menu menu[SHMCAM_MAX_MENU_ITEMS];
	struct v4l2_ctrl *ctrl[SHMCAM_MAX_CTRLS];
	const char *qmenu[SHMCAM_MAX_CTRLS][SHMCAM_CTRL_MENU_INDEXES];
	s64 qmenu_int[SHMCAM_MAX_CTRLS][SHMCAM_CTRL_MENU_INDEXES];
	/* Scratch copy of the table, under the handler's lock. */
	struct shmcam_ctrl_table tbl;
};

static struct shmcam_ctrls *shmcam_ctrls_of(struct v4l2_ctrl *ctrl)
{
	return container_of(ctrl->handler, struct shmcam_ctrls, hdl);
}

static bool shmcam_ctrl_is_menu(const struct shmcam_ctrl *c)
{
	return c->type == SHMCAM_CTRL_MENU ||
	       c->type == SHMCAM_CTRL_INTEGER_MENU;
}

/*
 * Can a checked control be a V4L2 control of ours?  Ids of the user and
 * camera classes only (not the class controls themselves), and a menu
 * whose default has an entry.
 */
static bool shmcam_ctrl_usable(const struct shmcam_ctrl *c,
			       const struct shmcam_ctrl_menu *menu)
{
	u32 which = V4L2_CTRL_ID2WHICH(c->id);
	unsigned int k;

	if ((which != V4L2_CTRL_CLASS_USER &&
	     which != V4L2_CTRL_CLASS_CAMERA) || (c->id & 0xffff) < 0x900)
		return false;
	if (!shmcam_ctrl_is_menu(c))
		return true;
	for (k = c->menu_first; k < c->menu_first + c->menu_count; k++)
		if (menu[k].index == (u32)c->default_value)
			return true;
	return false;
}

/* Are two checked controls the same control, their values aside? */
static bool shmcam_ctrl_same(const struct shmcam_ctrl *a,
			     const struct shmcam_ctrl_menu *am,
			     const struct shmcam_ctrl *b,
			     const struct shmcam_ctrl_menu *bm)
{
	unsigned int k;

	if (a->id != b->id || a->type != b->type || a->flags != b->flags ||
	    a->minimum != b->minimum || a->maximum != b->maximum ||
	    a->step != b->step || a->default_value != b->default_value ||
	    strcmp(a->name, b->name))
		return false;
	if (!shmcam_ctrl_is_menu(a))
		return true;
	if (a->menu_count != b->menu_count)
		return false;
	for (k = 0; k < a->menu_count; k++) {
		const struct shmcam_ctrl_menu *x = &am[a->menu_first + k];
		const struct shmcam_ctrl_menu *y = &bm[b->menu_first + k];

		if (x->index != y->index)
			return false;
		if (a->type == SHMCAM_CTRL_MENU ? strcmp(x->name, y->name) :
		    x->value != y->value)
			return false;
	}
	return true;
}

/* Does @sc hold exactly the controls of the checked table @t? */
static bool shmcam_ctrls_same(const struct shmcam_ctrls *sc,
			      const struct shmcam_ctrl_table *t)
{
	unsigned int i;

	if (sc->num != t->num_ctrls)
		return false;
	for (i = 0; i < sc->num; i++)
		if (!shmcam_ctrl_same(&sc->desc[i], sc->menu, &t->ctrls[i],
				      t->menu))
			return false;
	return true;
}

/*
 * Take the producer's current values from the checked table @t, for the
 * controls it still has unchanged; subscribers get V4L2_EVENT_CTRL for
 * each value that changed.  Called with the handler's lock held.
 */
static void shmcam_ctrls_update(struct shmcam_ctrls *sc,
				const struct shmcam_ctrl_table *t)
{
	unsigned int i;

	sc->from_host = true;
	for (i = 0; i < sc->num && i < t->num_ctrls; i++) {
		const struct shmcam_ctrl *c = &t->ctrls[i];
		struct v4l2_ctrl *ctrl = sc->ctrl[i];
		s64 v;

		if (!ctrl || (c->flags & SHMCAM_CTRL_FLAG_VOLATILE) ||
		    c->type == SHMCAM_CTRL_BUTTON ||
		    !shmcam_ctrl_same(&sc->desc[i], sc->menu, c, t->menu))
			continue;
		v = clamp_t(s64, (s64)c->value, ctrl->minimum, ctrl->maximum);
		/* A menu index without an entry is refused: the old stays. */
		if (c->type == SHMCAM_CTRL_INTEGER64)
			__v4l2_ctrl_s_ctrl_int64(ctrl, v);
		else
			__v4l2_ctrl_s_ctrl(ctrl, (s32)v);
	}
	sc->from_host = false;
}

/*
 * Copy the table and check it.  A copy the producer tore is taken again,
 * a few times.  Returns shmcam_ctrls_read()'s.
 */
static int shmcam_ctrls_copy(struct shmcam *s, const struct shmcam_layout *l,
			     struct shmcam_ctrl_table *t)
{
	unsigned int i;
	int ret = -ESTALE;

	for (i = 0; i < 3 && ret == -ESTALE; i++)
		ret = shmcam_ctrls_read(s->base, l, t);
	if (!ret) {
		for (i = 0; i < t->num_ctrls; i++)
			if (!shmcam_ctrl_usable(&t->ctrls[i], t->menu))
				return -EINVAL;
	}
	return ret;
}

/* The request the producer is asked, and its answer: see s_ctrl. */
static int shmcam_ctrl_request(struct shmcam *s, u32 id, s64 *value)
{
	const struct shmcam_consumer *areas = s->base + SHMCAM_CONSUMER_OFFSET;
	unsigned long deadline = jiffies + msecs_to_jiffies(SHMCAM_CTRL_TIMEOUT_MS);
	struct shmcam_layout l;
	bool sent = false;
	u32 serial, error, i;
	u64 v;

	if (s->gone)
		return -ENODEV;
	if (shmcam_layout_read(shmcam_hdr(s), s->size, &l) || !l.ctrl_offset)
		return -EIO;
	/* One request at a time: the handler's lock and s->lock are held. */
	serial = s->ctrl_serial + 1;
	if (!serial)
		serial = 1;
	s->ctrl_serial = serial;
	for (;;) {
		/* No area yet (just opened): the worker claims one soon. */
		if (!sent)
			sent = !shmcam_region_ctrl_request(s, id, *value, serial);
		/*
		 * The answer is in the entry of the area that holds our
		 * token: the one we claimed, or the one the shmcam-pci host
		 * copies our window into.
		 */
		for (i = 0; sent && i < SHMCAM_MAX_CONSUMERS; i++) {
			if (READ_ONCE(areas[i].owner) != s->cons_token)
				continue;
			if (shmcam_ctrl_answer_read(s->base, &l, i, serial,
						    &error, &v))
				continue;
			if (error)
				return error < 4096 ? -(int)error : -EIO;
			*value = (s64)v;
			return 0;
		}
		if (time_after(jiffies, deadline))
			return -EIO;
		usleep_range(1000, 2000);
	}
}

static int shmcam_s_ctrl(struct v4l2_ctrl *ctrl)
{
	struct shmcam_ctrls *sc = shmcam_ctrls_of(ctrl);
	bool is64 = ctrl->type == V4L2_CTRL_TYPE_INTEGER64;
	s64 value;
	int ret;

	/* The producer's own value, being taken: nothing to ask. */
	if (sc->from_host)
		return 0;
	if (ctrl->type == V4L2_CTRL_TYPE_BUTTON)
		value = 0;
	else
		value = is64 ? *ctrl->p_new.p_s64 : ctrl->val;
	ret = shmcam_ctrl_request(sc->s, ctrl->id, &value);
	if (ret)
		return ret;
	if (ctrl->type == V4L2_CTRL_TYPE_BUTTON)
		return 0;
	/* What the producer kept (it may round or clamp), in range. */
	value = clamp_t(s64, value, ctrl->minimum, ctrl->maximum);
	if (is64)
		*ctrl->p_new.p_s64 = value;
	else
		ctrl->val = (s32)value;
	return 0;
}

/* A volatile control's value is the table's, read now. */
static int shmcam_g_volatile_ctrl(struct v4l2_ctrl *ctrl)
{
	struct shmcam_ctrls *sc = shmcam_ctrls_of(ctrl);
	struct shmcam *s = sc->s;
	struct shmcam_layout l;
	unsigned int i;
	s64 v;

	if (s->gone || shmcam_layout_read(shmcam_hdr(s), s->size, &l) ||
	    shmcam_ctrls_copy(s, &l, &sc->tbl))
		return 0;	/* the last value stands */
	for (i = 0; i < sc->tbl.num_ctrls; i++) {
		const struct shmcam_ctrl *c = &sc->tbl.ctrls[i];

		if (c->id != ctrl->id || c->type != ctrl->type)
			continue;
		v = clamp_t(s64, (s64)c->value, ctrl->minimum, ctrl->maximum);
		if (ctrl->type == V4L2_CTRL_TYPE_INTEGER64)
			*ctrl->p_new.p_s64 = v;
		else
			ctrl->val = (s32)v;
		break;
	}
	return 0;
}

static const struct v4l2_ctrl_ops shmcam_ctrl_ops = {
	.s_ctrl = shmcam_s_ctrl,
	.g_volatile_ctrl = shmcam_g_volatile_ctrl,
};

/* Add control @i of @sc->desc, which holds a checked table. */
static void shmcam_ctrl_add(struct shmcam_ctrls *sc, unsigned int i)
{
	const struct shmcam_ctrl *c = &sc->desc[i];
	struct v4l2_ctrl_config cfg = {
		.ops = &shmcam_ctrl_ops,
		.id = c->id,
		.name = c->name,
		.type = c->type,
		.flags = c->flags,
		.min = (s64)c->minimum,
		.max = (s64)c->maximum,
		.step = c->step,
		.def = (s64)c->default_value,
	};
	unsigned int k;

	switch (c->type) {
	case SHMCAM_CTRL_BUTTON:
		cfg.min = 0;
		cfg.max = 0;
		cfg.step = 0;
		cfg.def = 0;
		break;
	case SHMCAM_CTRL_BOOLEAN:
		cfg.step = 1;
		break;
	case SHMCAM_CTRL_MENU:
	case SHMCAM_CTRL_INTEGER_MENU:
		/* Every index is skipped but those with an entry. */
		cfg.step = 0;
		cfg.menu_skip_mask = ~0ULL;
		for (k = c->menu_first; k < c->menu_first + c->menu_count; k++) {
			const struct shmcam_ctrl_menu *e = &sc->menu[k];

			cfg.menu_skip_mask &= ~BIT_ULL(e->index);
			sc->qmenu[i][e->index] = e->name;
			sc->qmenu_int[i][e->index] = (s64)e->value;
		}
		if (c->type == SHMCAM_CTRL_MENU)
			cfg.qmenu = sc->qmenu[i];
		else
			cfg.qmenu_int = sc->qmenu_int[i];
		break;
	}
	sc->ctrl[i] = v4l2_ctrl_new_custom(&sc->hdl, &cfg, NULL);
}

/*
 * A handler with the controls of the checked table @t (none when @t is
 * NULL), holding its values.  NULL when it could not be built.
 */
static struct shmcam_ctrls *shmcam_ctrls_build(struct shmcam *s,
					       const struct shmcam_ctrl_table *t)
{
	struct shmcam_ctrls *sc;
	unsigned int i;

	sc = kvzalloc(sizeof(*sc), GFP_KERNEL);
	if (!sc)
		return NULL;
	sc->s = s;
	if (t) {
		sc->num = t->num_ctrls;
		memcpy(sc->desc, t->ctrls, sc->num * sizeof(sc->desc[0]));
		memcpy(sc->menu, t->menu, t->num_menu * sizeof(sc->menu[0]));
		sc->generation = t->generation;
		sc->values_gen = t->values_gen;
		sc->seen = true;
	}
	v4l2_ctrl_handler_init(&sc->hdl, sc->num);
	for (i = 0; i < sc->num; i++)
		shmcam_ctrl_add(sc, i);
	if (sc->hdl.error) {
		dev_warn_ratelimited(s->v4l2_dev.dev,
				     "producer's controls refused (%d)\n",
				     sc->hdl.error);
		v4l2_ctrl_handler_free(&sc->hdl);
		kvfree(sc);
		return NULL;
	}
	if (t) {
		mutex_lock(sc->hdl.lock);
		shmcam_ctrls_update(sc, t);
		mutex_unlock(sc->hdl.lock);
	}
	return sc;
}

/*
 * Read the table now and make the handler match it.  Called with s->lock
 * held and no file open (or at probe): no file handle, subscription or
 * worker uses the handler.
 */
static int shmcam_ctrls_sync(struct shmcam *s)
{
	struct shmcam_ctrls *old = s->ctrls, *sc;
	struct shmcam_ctrl_table *t = NULL;
	struct shmcam_layout l;
	int ret = -ENOENT;

	if (!s->gone && !shmcam_layout_read(shmcam_hdr(s), s->size, &l)) {
		/* The old handler's scratch table, else a new one. */
		t = old ? &old->tbl : kvmalloc(sizeof(*t), GFP_KERNEL);
		if (!t)
			return -ENOMEM;
		ret = shmcam_ctrls_copy(s, &l, t);
		if (ret == -EINVAL)
			dev_warn_ratelimited(s->v4l2_dev.dev,
					     "producer's control table is invalid\n");
	}
	if (!ret && !t->num_ctrls)
		ret = -ENOENT;
	/* Torn every time: the producer is rewriting it; keep what we have. */
	if (ret == -ESTALE && old)
		return 0;
	if (old && ((ret && !old->num) ||
		    (!ret && shmcam_ctrls_same(old, t)))) {
		/* The same controls: keep the handler, take the values. */
		if (!ret) {
			mutex_lock(old->hdl.lock);
			shmcam_ctrls_update(old, t);
			old->generation = t->generation;
			old->values_gen = t->values_gen;
			old->seen = true;
			mutex_unlock(old->hdl.lock);
		}
		return 0;
	}
	sc = shmcam_ctrls_build(s, ret ? NULL : t);
	if (!old && t)
		kvfree(t);
	if (!sc)
		return old ? 0 : -ENOMEM;
	mutex_lock(&s->poll_lock);
	s->ctrls = sc;
	s->v4l2_dev.ctrl_handler = &sc->hdl;
	s->vdev.ctrl_handler = &sc->hdl;
	mutex_unlock(&s->poll_lock);
	if (old) {
		v4l2_ctrl_handler_free(&old->hdl);
		kvfree(old);
	}
	return 0;
}

/**
 * shmcam_ctrls_init - the controls at probe
 * @s: the device, its v4l2_device registered
 *
 * Return: 0 or -ENOMEM.
 */
int shmcam_ctrls_init(struct shmcam *s)
{
	int ret;

	s->ctrl_serial = get_random_u32();
	mutex_lock(&s->lock);
	ret = shmcam_ctrls_sync(s);
	mutex_unlock(&s->lock);
	return ret;
}

/**
 * shmcam_ctrls_open - a file is about to be opened and none is
 * @s: the device, with s->lock held
 *
 * The moment the handler may be replaced: see the top of this file.
 */
void shmcam_ctrls_open(struct shmcam *s)
{
	shmcam_ctrls_sync(s);
}

/**
 * shmcam_ctrls_poll - take the producer's new values
 * @s: the device, from the worker with poll_lock held and a file open
 * @l: the region's layout
 *
 * Raises V4L2_EVENT_CTRL for the values the producer changed.  Never
 * waits for the handler's lock: when an ioctl holds it, a later poll
 * takes the values.
 */
void shmcam_ctrls_poll(struct shmcam *s, const struct shmcam_layout *l)
{
	struct shmcam_ctrls *sc = s->ctrls;
	const struct shmcam_ctrl_table *src;
	int ret;

	if (!sc || !sc->num || !l->ctrl_offset)
		return;
	src = s->base + l->ctrl_offset;
	if (sc->seen && READ_ONCE(src->generation) == sc->generation &&
	    READ_ONCE(src->values_gen) == sc->values_gen)
		return;
	if (!mutex_trylock(sc->hdl.lock))
		return;
	ret = shmcam_ctrls_copy(s, l, &sc->tbl);
	if (ret == -EINVAL && !sc->warned) {
		dev_warn_ratelimited(s->v4l2_dev.dev,
				     "producer's control table is invalid\n");
		sc->warned = true;
	}
	if (!ret) {
		shmcam_ctrls_update(sc, &sc->tbl);
		sc->warned = false;
	}
	if (ret != -ESTALE) {
		/* Garbage is not looked at again until the table changes. */
		sc->generation = READ_ONCE(src->generation);
		sc->values_gen = READ_ONCE(src->values_gen);
		if (!ret) {
			sc->generation = sc->tbl.generation;
			sc->values_gen = sc->tbl.values_gen;
		}
		sc->seen = true;
	}
	mutex_unlock(sc->hdl.lock);
}

/**
 * shmcam_ctrls_free - free the controls
 * @s: the device, no file open and the worker stopped
 */
void shmcam_ctrls_free(struct shmcam *s)
{
	struct shmcam_ctrls *sc = s->ctrls;

	if (!sc)
		return;
	s->ctrls = NULL;
	s->v4l2_dev.ctrl_handler = NULL;
	v4l2_ctrl_handler_free(&sc->hdl);
	kvfree(sc);
}
