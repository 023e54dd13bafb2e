"""Interval analysis on a single input: tiers that overlap, leave gaps or share a boundary, and ranges."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

import attrs

from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic, error, warning
from polc.dsl.symbols import Symbols
from polc.dsl.checks.typecheck import const_value


# ---- tiers: interval analysis on a single input
@attrs.frozen
class Interval:
    lo: Optional[Decimal]
    lo_incl: bool
    hi: Optional[Decimal]
    hi_incl: bool

    def is_empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_incl and self.hi_incl))

    def intersect(self, o: 'Interval') -> 'Interval':
        lo, lo_incl = self.lo, self.lo_incl
        if o.lo is not None and (lo is None or o.lo > lo or (o.lo == lo and not o.lo_incl)):
            lo, lo_incl = o.lo, o.lo_incl
        hi, hi_incl = self.hi, self.hi_incl
        if o.hi is not None and (hi is None or o.hi < hi or (o.hi == hi and not o.hi_incl)):
            hi, hi_incl = o.hi, o.hi_incl
        return Interval(lo, lo_incl, hi, hi_incl)


FULL = Interval(None, False, None, False)


def condition_interval(cond) -> Optional[tuple[str, Interval]]:
    """(input name, interval) if ``cond`` constrains one input to an interval of constants."""
    if isinstance(cond, A.Range) and isinstance(cond.subject, A.Ref):
        iv = FULL
        if cond.low is not None:
            v = const_value(cond.low.value)
            if v is None:
                return None
            iv = iv.intersect(Interval(v, cond.low.inclusive, None, False))
        if cond.high is not None:
            v = const_value(cond.high.value)
            if v is None:
                return None
            iv = iv.intersect(Interval(None, False, v, cond.high.inclusive))
        return cond.subject.name, iv
    if isinstance(cond, A.Compare):
        left, right, op = cond.left, cond.right, cond.op
        if not isinstance(left, A.Ref) and isinstance(right, A.Ref):
            left, right = right, left
            op = {'>=': '<=', '<=': '>=', '>': '<', '<': '>'}.get(op, op)
        v = const_value(right)
        if not isinstance(left, A.Ref) or v is None:
            return None
        iv = {'>=': Interval(v, True, None, False), '>': Interval(v, False, None, False),
              '<=': Interval(None, False, v, True), '<': Interval(None, False, v, False),
              '==': Interval(v, True, v, True)}.get(op)
        return (left.name, iv) if iv else None
    if isinstance(cond, A.And):
        a, b = condition_interval(cond.left), condition_interval(cond.right)
        if a and b and a[0] == b[0]:
            return a[0], a[1].intersect(b[1])
    return None


def _fmt_bound(v: Decimal, t: Optional[str]) -> str:
    from polc.dsl.units import format_quantity
    return format_quantity(v, t)


def _covered(iv: Interval, earlier: list[Interval]) -> bool:
    """Is ``iv`` inside the union of ``earlier``?  (Sweep from iv.lo upwards.)"""
    if iv.is_empty():
        return True
    lo, lo_incl = iv.lo, iv.lo_incl
    progress = True
    while progress:
        progress = False
        for e in earlier:
            # does e cover the point just at/after lo?
            starts_ok = e.lo is None or (lo is not None and (
                e.lo < lo or (e.lo == lo and (e.lo_incl or not lo_incl))))
            if not starts_ok or e.is_empty():
                continue
            if e.hi is None:
                return True
            if lo is not None and (e.hi < lo or (e.hi == lo and not (e.hi_incl and lo_incl))):
                continue
            # e extends coverage to e.hi
            if iv.hi is not None and (e.hi > iv.hi or (e.hi == iv.hi and (e.hi_incl or not iv.hi_incl))):
                return True
            if lo is None or e.hi > lo or (e.hi == lo and e.hi_incl and not lo_incl):
                lo, lo_incl = e.hi, not e.hi_incl
                progress = True
    return False


def check_tiers(p: A.Policy, sym: Symbols, types: dict[int, str]) -> list[Diagnostic]:
    out = []
    for n in A.walk(p):
        if not isinstance(n, A.Tiers):
            continue
        ivs = [condition_interval(t.condition) for t in n.tiers]
        if not ivs or any(x is None for x in ivs) or len({x[0] for x in ivs}) != 1:
            continue
        var = ivs[0][0]
        t = next((types.get(id(x)) for x in A.walk(n.tiers[0].condition)
                  if isinstance(x, A.Ref) and x.name == var), None)
        intervals = [x[1] for x in ivs]
        for i, iv in enumerate(intervals):
            if _covered(iv, intervals[:i]):
                out.append(error('E-TIER-UNREACHABLE',
                                 f'第{i + 1}档永远不会被选中：前面的档次已覆盖「{var}」的这一范围',
                                 n.tiers[i].span))
                continue
            for j in range(i):
                inter = iv.intersect(intervals[j])
                if not inter.is_empty():
                    where = (f'在 {_fmt_bound(inter.lo, t)} 处' if inter.lo is not None and inter.lo == inter.hi
                             else '有一段范围')
                    out.append(warning(
                        'W-TIER-OVERLAP',
                        f'第{j + 1}档与第{i + 1}档{where}重叠（「{var}」同时满足两档，按书写顺序取第{j + 1}档）',
                        n.tiers[i].span, '用（含）/（不含）写明边界归属，并用「解读」说明理由'))
        if n.otherwise is None:
            domain = Interval(Decimal(0), True, None, False) if t in ('money', 'int', None) else FULL
            if not _covered(domain, intervals):
                gap = _first_gap(domain, intervals, t)
                out.append(warning(
                    'W-TIER-GAP', f'档次没有覆盖「{var}」的全部取值（{gap}），落在其中的申请人得不到任何一档',
                    n.span, '如属原意，请加「否则：不适用 \"……\"」写明'))
    return out


def _first_gap(domain: Interval, intervals: list[Interval], t: Optional[str]) -> str:
    from polc.dsl.units import format_quantity
    points = sorted({iv.lo for iv in intervals if iv.lo is not None} |
                    {iv.hi for iv in intervals if iv.hi is not None} | {domain.lo or Decimal(0)})
    probes = []
    for i, pt in enumerate(points):
        probes.append(pt)
        if i + 1 < len(points):
            probes.append((pt + points[i + 1]) / 2)
    probes.append(points[-1] + 1)
    for x in probes:
        if domain.lo is not None and x < domain.lo:
            continue
        if not any(_contains(iv, x) for iv in intervals):
            return f'例如 {format_quantity(x, t)}'
    return '边界处'


def _contains(iv: Interval, x: Decimal) -> bool:
    if iv.lo is not None and (x < iv.lo or (x == iv.lo and not iv.lo_incl)):
        return False
    if iv.hi is not None and (x > iv.hi or (x == iv.hi and not iv.hi_incl)):
        return False
    return True


def check_ranges(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out = []
    for n in A.walk(p):
        if isinstance(n, A.Range) and n.low is not None and n.high is not None:
            lo, hi = const_value(n.low.value), const_value(n.high.value)
            if lo is not None and hi is not None and lo > hi:
                out.append(error('E-RANGE', '区间下限大于上限', n.span))
            if not (n.low.explicit and n.high.explicit):
                out.append(warning('W-RANGE-ENDS', '区间端点未写明（含）/（不含），按「含」处理', n.span,
                                   '在端点后写（含）或（不含）'))
    return out
