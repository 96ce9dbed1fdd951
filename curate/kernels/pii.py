"""Checksum kernel of the pii step: over a batch's UTF-8 buffer, each candidate wrapped in the
sentinels U+E000 ... U+E001 is replaced by the placeholder when its checksum (Luhn and a card
network's prefix and length, or IBAN mod-97) holds, else put back as it was (the method is in
curate/pii/checked.py)."""

from __future__ import annotations

import numba
import numpy as np

SIGNATURES = {"resolve": "void(u1[::1], i8[::1], i8, u1[::1], u1[::1], i8[::1], i8[::1], i8[:, ::1])"}


@numba.njit(cache=True, nogil=True)
def _network(buf, a, b, count, table):
    """Whether the digits of ``buf[a:b]`` (``count`` of them) have a card network's prefix and length."""
    for r in range(table.shape[0]):
        width = table[r, 2]
        if (table[r, 5] >> count) & 1 == 0:
            continue
        prefix = 0
        seen = 0
        i = a
        while i < b and seen < width:
            c = buf[i]
            if 48 <= c <= 57:
                prefix = prefix * 10 + (c - 48)
                seen += 1
            i += 1
        if table[r, 0] <= prefix <= table[r, 1]:
            return True
    return False


@numba.njit(cache=True, nogil=True)
def _luhn(buf, a, b, table):
    total = 0
    count = 0
    for i in range(b - 1, a - 1, -1):
        c = buf[i]
        if c < 48 or c > 57:
            continue
        d = c - 48
        if count % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        count += 1
    return 13 <= count <= 19 and total % 10 == 0 and _network(buf, a, b, count, table)


@numba.njit(cache=True, nogil=True)
def _mod97(buf, a, b):
    chars = np.empty(b - a, np.uint8)
    m = 0
    for i in range(a, b):
        if buf[i] != 32:
            chars[m] = buf[i]
            m += 1
    if m < 15 or m > 34:
        return False
    rem = 0
    for j in range(m):
        c = chars[(j + 4) % m]
        if 48 <= c <= 57:
            rem = (rem * 10 + (c - 48)) % 97
        else:
            rem = (rem * 100 + (c - 55)) % 97  # A = 10 ... Z = 35
    return rem == 1


@numba.njit(cache=True, nogil=True)
def resolve(data, offsets, check, placeholder, out, out_offsets, counts, table):
    """The batch with each wrapped candidate replaced or put back (module docstring) into ``out``;
    replacements per document into ``counts``. ``check``: 0 Luhn (``table``: card networks), 1 mod-97."""
    pos = 0
    out_offsets[0] = 0
    for d in range(offsets.shape[0] - 1):
        i, end = offsets[d], offsets[d + 1]
        n = 0
        while i < end:
            if i + 2 < end and data[i] == 0xEE and data[i + 1] == 0x80 and data[i + 2] == 0x80:
                a = i + 3
                b = a
                while not (data[b] == 0xEE and data[b + 1] == 0x80 and data[b + 2] == 0x81):
                    b += 1
                ok = _luhn(data, a, b, table) if check == 0 else _mod97(data, a, b)
                if ok:
                    out[pos:pos + placeholder.shape[0]] = placeholder
                    pos += placeholder.shape[0]
                    n += 1
                else:
                    out[pos:pos + b - a] = data[a:b]
                    pos += b - a
                i = b + 3
            else:
                out[pos] = data[i]
                pos += 1
                i += 1
        counts[d] = n
        out_offsets[d + 1] = pos
