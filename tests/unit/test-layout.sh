#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-layout.sh BUILD_DIR: no file of hw/ calls into a file that calls
# back into it, directly or through others.  The calls are read from the
# objects the build made (nm: what each defines and what it needs), so a
# call through a pointer (a source's ops) is not one, as in a reader's
# eye.  Prints each cycle found, and fails.
set -e
build=${1:?usage: test-layout.sh BUILD_DIR}
objs=$(find "$build/hw" -name '*.c.o' | sort)
[ -n "$objs" ] || { echo "no objects under $build/hw: build first" >&2; exit 1; }
# shellcheck disable=SC2086
nm -A $objs | python3 -c '
import sys, collections
defs, uses = {}, collections.defaultdict(set)
def name(obj):
    # hw/shmcam-host.p/host_capture.c.o -> hw/host/capture.c
    base = obj.rsplit("/", 1)[1][:-2]
    part, _, rest = base.partition("_")
    return "hw/%s/%s" % (part, rest)
for line in sys.stdin:
    obj, _, sym = line.partition(":")
    f = sym.split()
    if len(f) == 3 and f[1] in "TDBR":
        defs[f[2]] = name(obj)
    elif len(f) == 2 and f[0] == "U":
        uses[name(obj)].add(f[1])
edges = collections.defaultdict(set)
for src, syms in uses.items():
    for s in syms:
        dst = defs.get(s)
        if dst and dst != src:
            edges[src].add(dst)
files = sorted(set(defs.values()) | set(uses))
state, stack, cycles = {}, [], []
def visit(f):
    state[f] = 1
    stack.append(f)
    for g in sorted(edges[f]):
        if state.get(g) == 1:
            cycles.append(stack[stack.index(g):] + [g])
        elif g not in state:
            visit(g)
    stack.pop()
    state[f] = 2
for f in files:
    if f not in state:
        visit(f)
print("%d files, %d calls between them" % (len(files),
      sum(len(e) for e in edges.values())))
for c in cycles:
    print("cycle: " + " -> ".join(c))
sys.exit(1 if cycles else 0)
'
