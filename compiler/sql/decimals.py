"""Typed DECIMAL values for the portable SQL (compiler/sql/generate.py): every number the query
computes carries its exact type, so that no engine's own DECIMAL rules ever round it."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

MAX_DIGITS = 38                 # the widest DECIMAL of DuckDB, Spark, Trino, BigQuery …
# the typed facts table's values, as the loader checks them (compiler/sql/engine.py): money at most
# 10^20 元 in fen, percents at most 10^6 in absolute value with 10 decimals, integers at most 10^12
INPUT_TYPES = {'money': (21, 2), 'percent': (7, 10), 'int': (13, 0)}


class N(str):
    """The SQL text of a number whose type is exactly DECIMAL(d + s, s) on every engine:
    |value| < 10^d and the value has at most s decimals, so it is held without rounding.

    Every operation on numbers is typed from its operands (sum: max(d) + 1 digits; product:
    d1 + d2 digits, s1 + s2 decimals) and the result cast to that type, both sides of a comparison
    are cast to one common type, and no intermediate type may need more than 38 digits — Spark's
    rules (product precision p1 + p2 + 1; ``allowPrecisionLoss`` cutting the scale of a result
    wider than 38 digits down to 6; comparisons of different scales rounding one side) then never
    have anything to cut, under any setting.  Where 38 digits cannot hold a value, the policy is
    refused (SqlUnsupported), never computed approximately."""

    d: int
    s: int

    def __new__(cls, text: str, d: int, s: int, literal: Optional[str] = None, hi: Optional[Decimal] = None):
        self = super().__new__(cls, text)
        self.d, self.s, self.literal = max(d, 0), s, literal
        self.hi = hi            # an upper bound of the value where one is known (a cap, a constant)
        return self

    @property
    def upper(self) -> Decimal:
        """A number the value never exceeds: ``hi``, or the type's own limit 10^d."""
        limit = Decimal(10) ** self.d
        return limit if self.hi is None else min(self.hi, limit)

    @property
    def p(self) -> int:
        return max(self.d + self.s, 1)


def decimal_type(d: int, s: int) -> str:
    return f'DECIMAL({max(d + s, 1)}, {s})'


def cast(x: 'N', d: int, s: int) -> 'N':
    """x as DECIMAL(d + s, s) (never fewer digits or decimals than x has)."""
    d, s = max(d, x.d), max(s, x.s)
    if (x.d, x.s) == (d, s):
        return x
    return N(f'CAST({x.literal or x} AS {decimal_type(d, s)})', d, s, x.literal, x.hi)


def common(*xs: 'N') -> tuple[int, int]:
    return max(x.d for x in xs), max(x.s for x in xs)


def highest(xs) -> Optional[Decimal]:
    """The largest upper bound of ``xs`` when every one has a known bound, else None."""
    his = [x.hi for x in xs]
    return None if not his or any(h is None for h in his) else max(his)
