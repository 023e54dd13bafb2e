"""Amounts as a budget planner quotes them: one unit per table, thousands separators, exact.

- Tables show 万元 (the unit of Chinese budget memos): 22479500 元 → ``2,247.95``; the decimals
  are as many as the exact value needs, at least two (1 fen = 0.000001万元), never rounded.
- Headlines may use 亿元 (≥ 1亿元): exact when four decimals or fewer suffice, otherwise rounded to
  two decimals and marked 约, always with the exact 万元 figure beside it.
- Exports (CSV, Excel) carry exact 元 with two decimals and no separators (see export.py).
All by Decimal arithmetic: no float anywhere.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

WAN = Decimal(10000)
YI = Decimal(100000000)
TWO = Decimal('0.01')


def grouped(d: Decimal, min_places: int = 2) -> str:
    """Exact decimal text with thousands separators and at least ``min_places`` decimals."""
    d = Decimal(d)
    exponent = d.normalize().as_tuple().exponent
    places = max(min_places, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return f'{d.quantize(Decimal(1).scaleb(-places)):,.{places}f}'


def wan(value) -> str:
    """元 → the 万元 figure for a table cell (no unit): 22479500 → 2,247.95."""
    return grouped(Decimal(value) / WAN)


def yuan(value) -> str:
    """元 with separators and two decimals (exact to the fen): 1234567.8 → 1,234,567.80."""
    return grouped(Decimal(value))


def money_text(value) -> str:
    """An amount in running text, always in 万元: 2,247.95万元."""
    return wan(value) + '万元'


def headline(value) -> str:
    """A headline figure: 亿元 from 1亿元 on (with the exact 万元 beside it), else 万元."""
    v = Decimal(value)
    if abs(v) < YI:
        return money_text(v)
    y = v / YI
    exponent = y.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        return f'约 {grouped(y.quantize(TWO, rounding=ROUND_HALF_UP))}亿元（{money_text(v)}）'
    return f'{grouped(y)}亿元（{money_text(v)}）'
