"""Source text: one-for-one normalisation, positions and display width."""
from __future__ import annotations

# Full-width ASCII variants (U+FF01..U+FF5E) map to ASCII; the ideographic space
# to a space.  One character for one character, so that offsets, lines and
# columns of the normalised text are those of the original.
_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_TABLE[0x3000] = 0x20
_TABLE[0x2236] = ord(':')   # ∶ RATIO, sometimes used for a colon


def normalize(text: str) -> str:
    """Normalise full-width punctuation and digits to half-width, keeping length."""
    out = text.translate(_TABLE)
    assert len(out) == len(text)
    return out


def normalize_for_match(text: str) -> str:
    """Normalisation used to compare 原文 with a source document: also drops all whitespace."""
    return ''.join(normalize(text).split())


def display_width(text: str) -> int:
    """Columns taken by ``text`` in a terminal (East Asian Wide/Full-width = 2)."""
    from wcwidth import wcswidth, wcwidth      # only needed when a diagnostic is shown
    w = wcswidth(text)
    if w >= 0:
        return w
    return sum(max(wcwidth(c), 0) for c in text)


def line_at(text: str, line: int) -> str:
    """The 1-based ``line`` of ``text`` without its line ending ('' if out of range)."""
    lines = text.split('\n')
    if 1 <= line <= len(lines):
        return lines[line - 1].rstrip('\r')
    return ''


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a character offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count('\n', 0, offset) + 1
    start = text.rfind('\n', 0, offset) + 1
    return line, offset - start + 1
