"""Read a log in big reused buffers cut at line ends: the one reading loop every scan engine shares.

The buffer layout is the contract with the scanners: ``buf[0]`` is a sentinel newline, the data follows, and
``PAD`` newlines come after the data, so a scanner may read a fixed window past any line start without bounds
checks (scan.py reads up to 120 bytes past one; the compiled scanner needs the newline at ``cut``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

PAD = 128  # bytes after the data, all newlines; scan.py needs at least 8 * (WORDS + KEY_WORDS + 2)
_NL_PAD = b"\n" * PAD


def chunks(fh: BinaryIO, size: int, stop: int | None) -> Iterator[tuple[bytearray, int, bool]]:
    """Yield (buffer starting with a sentinel newline, end of complete lines, is_final_unterminated).

    One buffer is reused: ``buf[0]`` is the sentinel, the data follows, then ``PAD`` newlines.
    """
    buf, have = bytearray(1 + size + PAD), 0
    buf[0] = 10
    left = None if stop is None else stop - fh.tell()
    while True:
        want = size if left is None else min(size, left)
        if 1 + have + want + PAD > len(buf):  # a line longer than the buffer: grow
            grown = bytearray(1 + 2 * (have + want) + PAD)
            grown[: 1 + have] = buf[: 1 + have]
            buf = grown
        with memoryview(buf) as mv:
            k = fh.readinto(mv[1 + have : 1 + have + want]) if want else 0
        left = None if left is None else left - k
        n = 1 + have + k
        buf[n : n + PAD] = _NL_PAD
        if not k:
            if have:
                yield buf, n, True
            return
        cut = buf.rfind(b"\n", 0, n)
        if cut == 0:
            have = n - 1
            continue
        yield buf, cut, False
        have = n - cut - 1
        buf[1 : 1 + have] = buf[cut + 1 : n]
