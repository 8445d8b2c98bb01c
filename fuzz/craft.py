#!/usr/bin/env python3
# Builds the inputs of known bugs from a real trace, with valid checksums
# (traces/FORMAT.md), for fuzz/crashes/.
# usage: fuzz/craft.py SEED.trace EDIT OUT
#   short-syscall  an events chunk ending in a sys_enter record of 8 bytes
#   fmt-fpe        a kind whose print fmt is "",D/s (libtraceevent: SIGFPE)
#   fmt-null       a kind whose format ends in "field:d n[" (NULL deref)
#   raw-len-wrap   the first compressed chunk says raw_len 0xffffffff
import struct
import sys
import zlib

HDR = struct.Struct('<IHHIIII')
MAGIC = 0x4b48434d


def chunks(d):
    off = 32
    while off + HDR.size <= len(d):
        magic, typ, flags, raw_len, data_len, _, _ = HDR.unpack_from(d, off)
        if magic != MAGIC:
            break
        data = d[off + HDR.size:off + HDR.size + data_len]
        raw = zlib.decompress(data) if flags & 1 else data
        yield [typ, flags, raw_len, raw]
        off += HDR.size + data_len


def encode(typ, flags, raw, raw_len=None):
    data = zlib.compress(raw, 1) if flags & 1 else raw
    head = struct.pack('<IHHII', MAGIC, typ, flags, len(raw) if raw_len is None else raw_len,
                       len(data))
    head += struct.pack('<I', zlib.crc32(data))
    return head + struct.pack('<I', zlib.crc32(head)) + data


def first_sys_enter(chs):
    for typ, _, _, raw in chs:
        p = 0
        while typ == 3 and p + 24 <= len(raw):
            ts, mm, tgid, cpu, ln = struct.unpack_from('<QQIHH', raw, p)
            if struct.unpack_from('<H', raw, p + 24)[0] == 1:
                return ts, mm, tgid, cpu, raw[p + 24:p + 32]
            p += 24 + ln
    sys.exit('craft: no sys_enter record in the seed')


def edit_format(chs, fn):
    for c in chs:
        if c[0] == 2 and b'\nformat:\n' in c[3] and b'id=1\n' in c[3]:
            c[3] = fn(c[3])
            return
    sys.exit('craft: no KIND chunk for id 1')


def main():
    seed, what, out = sys.argv[1:4]
    d = open(seed, 'rb').read()
    chs = list(chunks(d))
    if what == 'short-syscall':
        ts, mm, tgid, cpu, common = first_sys_enter(chs)
        rec = struct.pack('<QQIHH', ts + 1, mm, tgid, cpu, 8) + common
        end = next(i for i, c in enumerate(chs) if c[0] == 5)
        chs.insert(end, [3, 0, None, rec])
    elif what == 'fmt-fpe':
        edit_format(chs, lambda t: t[:t.index(b'print fmt: ')] + b'print fmt: "",D/s\n')
    elif what == 'fmt-null':
        edit_format(chs, lambda t: t[:t.index(b'\tfield:')] + b'\tfield:d n[')
    elif what != 'raw-len-wrap':
        sys.exit('craft: unknown edit ' + what)
    body = b''
    wrapped = False
    for typ, flags, _, raw in chs:
        wrap = what == 'raw-len-wrap' and flags & 1 and not wrapped
        wrapped |= bool(wrap)
        body += encode(typ, flags, raw, 0xffffffff if wrap else None)
    open(out, 'wb').write(d[:32] + body)


main()
