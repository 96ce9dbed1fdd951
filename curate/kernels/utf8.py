"""UTF-8 decoding inside numba kernels: a document's bytes -> codepoints (Python ``str`` indexing).

datatrove's rules measure lengths in Python characters (codepoints), so kernels decode each document
once into a reusable int32 buffer and work on codepoint indices; :func:`encode_into` writes kept text
back as UTF-8. Input is valid UTF-8 (Arrow strings are validated by the readers).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def decode_into(data, start, end, out):
    """Decode ``data[start:end]`` into ``out`` (int32, len >= end - start); returns the length."""
    n = 0
    i = start
    while i < end:
        b = np.int32(data[i])
        if b < 0x80:
            out[n] = b
            i += 1
        elif b < 0xE0:
            out[n] = ((b & 0x1F) << 6) | (np.int32(data[i + 1]) & 0x3F)
            i += 2
        elif b < 0xF0:
            out[n] = ((b & 0x0F) << 12) | ((np.int32(data[i + 1]) & 0x3F) << 6) | (np.int32(data[i + 2]) & 0x3F)
            i += 3
        else:
            out[n] = (((b & 0x07) << 18) | ((np.int32(data[i + 1]) & 0x3F) << 12)
                      | ((np.int32(data[i + 2]) & 0x3F) << 6) | (np.int32(data[i + 3]) & 0x3F))
            i += 4
        n += 1
    return n


@numba.njit(cache=True, nogil=True)
def encode_into(cps, start, end, out, pos):
    """UTF-8-encode ``cps[start:end]`` into ``out`` at byte ``pos``; returns the new position."""
    for i in range(start, end):
        c = cps[i]
        if c < 0x80:
            out[pos] = c
            pos += 1
        elif c < 0x800:
            out[pos] = 0xC0 | (c >> 6)
            out[pos + 1] = 0x80 | (c & 0x3F)
            pos += 2
        elif c < 0x10000:
            out[pos] = 0xE0 | (c >> 12)
            out[pos + 1] = 0x80 | ((c >> 6) & 0x3F)
            out[pos + 2] = 0x80 | (c & 0x3F)
            pos += 3
        else:
            out[pos] = 0xF0 | (c >> 18)
            out[pos + 1] = 0x80 | ((c >> 12) & 0x3F)
            out[pos + 2] = 0x80 | ((c >> 6) & 0x3F)
            out[pos + 3] = 0x80 | (c & 0x3F)
            pos += 4
    return pos
