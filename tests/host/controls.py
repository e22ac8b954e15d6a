# SPDX-License-Identifier: GPL-2.0-or-later
# A guest's side of controls (docs/specs/shmcam.rst, "Controls"), played
# on a region file for tests/host/controls.sh: claim consumer areas, hold
# the format, send control requests and print their answers.
#
# controls.py REGION first DUMP   the holder's request, another's EBUSY
# controls.py REGION flood DUMP   one area floods, another is answered
import errno
import mmap
import os
import struct
import subprocess
import sys
import threading
import time

CONS = 0x1000
AREA = 128


class Area:
    def __init__(self, m, i, owner):
        self.m, self.i, self.base = m, i, CONS + AREA * i
        self.serial = 0
        self.put(0, '<Q', owner)

    # One field, stored whole (a slice assignment is one memcpy): never
    # struct.pack_into, which zeroes its bytes before it fills them, so
    # that the producer could see a 0 in a field rewritten with the value
    # it already had.
    def put(self, off, fmt, *v):
        b = struct.pack(fmt, *v)
        self.m[self.base + off:self.base + off + len(b)] = b

    def u32(self, off, v):
        self.put(off, '<I', v)

    def beat(self):
        hb = struct.unpack_from('<Q', self.m, self.base + 8)[0]
        self.put(8, '<Q', hb + 1)

    def hold(self, fourcc, w, h, num, den):
        self.put(24, '<4sII', fourcc, w, h)
        self.put(40, '<II', num, den)
        self.u32(20, 1)                     # request_gen
        self.u32(16, 3)                     # STREAMING | REQUEST

    def send(self, cid, value):
        self.serial = (self.serial + 1) & 0xffffffff or 1
        self.u32(84, cid)
        self.put(88, '<q', value)
        self.u32(80, self.serial)
        return self.serial

    def answer(self, serial):
        ctrl = struct.unpack_from('<Q', self.m, 168)[0]
        a = ctrl + 16960 + 16 * self.i
        for _ in range(20000):             # a guard, not a timing check
            s, e, v = struct.unpack_from('<IIq', self.m, a)
            if s == serial:
                return e, v
            self.beat()
            time.sleep(0.001)
        return None


def dump(path, *args):
    r = subprocess.run([sys.argv[3], '--region', path] + list(args),
                       capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


def say(what, ans):
    if ans is None:
        print('%s: no answer' % what)
    else:
        e, v = ans
        print('%s: %s %d' % (what, errno.errorcode[e] if e else 'ok', v))


def main():
    path, what = sys.argv[1], sys.argv[2]
    fd = os.open(path, os.O_RDWR)
    m = mmap.mmap(fd, os.fstat(fd).st_size)
    fourcc, w, h = struct.unpack_from('<4sII', m, 80)
    num, den = struct.unpack_from('<II', m, 104)
    a = Area(m, 5, 0x5005)
    stop = threading.Event()

    def beat():
        while not stop.wait(0.05):
            a.beat()
    t = threading.Thread(target=beat)
    t.start()
    try:
        if what == 'first':
            # nobody holds the format: anyone may
            say('before hold', a.answer(a.send(0x00980900, 11)))
            a.hold(fourcc, w, h, num, den)
            time.sleep(0.3)                 # two heartbeats: it holds
            say('holder', a.answer(a.send(0x00980900, 12)))
            print('other: %d %s' % dump(path, '--set-ctrl', 'brightness=13'))
            a.u32(16, 0)                    # stops streaming: nobody holds
            time.sleep(0.3)
            print('after: %d %s' % dump(path, '--set-ctrl', 'brightness=14'))
        elif what == 'flood':
            b = Area(m, 6, 0x6006)
            other = []
            th = threading.Thread(target=lambda: other.append(
                dump(path, '--set-ctrl', 'contrast=128')))
            th.start()
            last = 0
            while th.is_alive() or last < 20000:
                last = b.send(0x00980901, 128)
            th.join()
            print('other: %d %s' % other[0])
            # the newest waiting request is the one answered in the end
            say('flood last', b.answer(b.send(0x00980901, 300)))
    finally:
        stop.set()
        t.join()


main()
