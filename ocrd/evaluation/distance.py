"""Levenshtein edit distance, bit-parallel.

Page ground truth runs to ~2,000 characters, so the textbook O(n*m) table would be 4 million
Python-level steps per page. Instead the whole DP column is held in two Python integers used as
bit vectors (Myers 1999, in Hyyrö's formulation for the global distance): each character of the
shorter string costs a dozen big-integer operations on words of len(longer) bits, which CPython
does in C. A 2,000 x 2,000 pair takes about a millisecond.

Bit i of the vectors describes row i of the DP column (character i of the longer string):
``vp``/``vn`` say whether the vertical difference D[i][j] - D[i-1][j] is +1/-1, ``hp``/``hn`` the
same for the horizontal difference D[i][j] - D[i][j-1].
"""

from __future__ import annotations


def levenshtein(a: str, b: str) -> int:
    """Minimum number of single-character insertions, deletions and substitutions turning a into b."""
    if len(a) < len(b):
        a, b = b, a  # a is the longer: it becomes the bit vector, b drives the loop
    if not b:
        return len(a)

    positions: dict[str, int] = {}
    for index, char in enumerate(a):
        positions[char] = positions.get(char, 0) | (1 << index)

    all_rows = (1 << len(a)) - 1
    last_row = 1 << (len(a) - 1)
    vp, vn = all_rows, 0  # first column D[i][0] = i: every vertical step is +1
    distance = len(a)
    for char in b:
        eq = positions.get(char, 0)
        xv = eq | vn
        xh = ((((eq & vp) + vp) & all_rows) ^ vp) | eq
        hp = vn | (~(xh | vp) & all_rows)
        hn = vp & xh
        if hp & last_row:
            distance += 1
        elif hn & last_row:
            distance -= 1
        # The top row is D[0][j] = j, so a +1 horizontal step enters at the bottom bit.
        hp = ((hp << 1) | 1) & all_rows
        hn = (hn << 1) & all_rows
        vp = hn | (~(xv | hp) & all_rows)
        vn = hp & xv
    return distance
