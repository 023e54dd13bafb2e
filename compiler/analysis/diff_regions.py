"""``polc diff``: the solver's side of the amount comparison — the translation of both versions
(verify's, plus 基数 × 按年比例 made linear), the link between their inputs, which tier each takes,
the description of a region by the range of each input over it (found by optimisation), and
applicants sampled from a region or picked as its roundest point."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from polc.dsl import ast as A
from polc.dsl.units import format_money

from polc.compiler.analysis.guarantees import FEN
from polc.compiler.analysis.solver import _Z3

_UNBOUNDED = {'money': (0, 10 ** 21), 'percent': (-10 ** 10 + 1, 10 ** 10 - 1), 'int': (-10 ** 12 + 1, 10 ** 12 - 1)}


class _DiffZ3(_Z3):
    """verify's translation, plus a product of an input with a schedule or a by-category table of
    constant rates (基数 × 按年（第一年 50% …）): distributed over the branches, it stays linear."""

    def val(self, e):
        if isinstance(e, A.BinOp) and e.op == '*' and not (self.is_const(e.left) or self.is_const(e.right)):
            for table, other in ((e.left, e.right), (e.right, e.left)):
                if isinstance(table, (A.Schedule, A.ByCategory)) and \
                        all(self.is_const(en.value) for en in table.entries):
                    return self._scaled(table, other)
        return super().val(e)

    def _scaled(self, table, other):
        z3 = self.z3
        x, ok = self.val(other)
        if isinstance(table, A.Schedule):
            idx, oi = self.val(table.index)
            conds = [z3.Or(*[idx == y for y in en.years]) if en.years else z3.BoolVal(False)
                     for en in table.entries]
        else:
            idx, oi = self.val(table.subject)
            conds = [idx == self.enum_index(table.subject.name, en.category.text) for en in table.entries]
        v = None
        for en, c in reversed(list(zip(table.entries, conds))):
            ev, _ = self.val(en.value)
            v = ev * x if v is None else z3.If(c, ev * x, v)
        return v, z3.And(ok, oi, z3.Or(*conds))


def _link(z3, ta, tb, s):
    """The two versions see the same applicant: shared inputs are equal."""
    for name in set(ta.vars) & set(tb.vars):
        (_, ra, ka), (_, rb, kb) = ta.vars[name], tb.vars[name]
        if ka != kb:
            continue
        if ka == 'enum':
            va_ = list(ta.compiled.inputs[name][1])
            vb_ = list(tb.compiled.inputs[name][1])
            if va_ == vb_:
                s.add(ra == rb)
            else:
                for v in set(va_) & set(vb_):
                    s.add((ra == va_.index(v)) == (rb == vb_.index(v)))
        else:
            s.add(ra == rb)


def _tier_index(z3, tr, it):
    """z3 integer: which top-level tier the item takes (-1: conditions unmet, 0..n-1, n: otherwise)."""
    if it is None:
        return z3.IntVal(-1)
    ok = z3.BoolVal(True)
    for c in it.conditions:
        v, o = tr.val(c)
        ok = z3.And(ok, o, v)
    am = it.amount
    idx = z3.IntVal(0)
    if isinstance(am, A.Tiers):
        idx = z3.IntVal(len(am.tiers))
        for k in reversed(range(len(am.tiers))):
            c, _o = tr.val(am.tiers[k].condition)
            idx = z3.If(c, z3.IntVal(k), idx)
    return z3.If(ok, idx, z3.IntVal(-1))


def _bound_text(kind: str, lo: Optional[int], hi: Optional[int]) -> str:
    """An input's range over a region in the policy's range words; raw values (fen, basis points)."""
    def show(v):
        if kind == 'money':
            return format_money(Decimal(v) * FEN)
        if kind == 'percent':
            return f'{(Decimal(v) / 100).normalize():f}%'
        return str(v)

    def whole(v):
        return v % 100 == 0 if kind in ('money', 'percent') else True
    lo_t = hi_t = None
    if lo is not None:
        lo_t = ('>', lo - 1) if not whole(lo) and whole(lo - 1) else ('≥', lo)
    if hi is not None:
        hi_t = ('<', hi + 1) if not whole(hi) and whole(hi + 1) else ('≤', hi)
    if lo is not None and hi is not None and lo == hi:
        return f'= {show(lo)}'
    if lo_t and hi_t:
        return (f'在 {show(lo_t[1])}{"（含）" if lo_t[0] == "≥" else "（不含）"} 至 '
                f'{show(hi_t[1])}{"（含）" if hi_t[0] == "≤" else "（不含）"}')
    if lo_t:
        return f'{lo_t[0]} {show(lo_t[1])}'
    return f'{hi_t[0]} {show(hi_t[1])}'


def _optimum(z3, region, var, minimise: bool):
    o = z3.Optimize()
    o.set('timeout', 3000)
    o.add(region)
    h = o.minimize(var) if minimise else o.maximize(var)
    if o.check() != z3.sat:
        return None
    v = (o.lower(h) if minimise else o.upper(h))
    try:
        return v.as_long()
    except Exception:           # ±oo or an epsilon: no usable bound
        return None


def _describe_region(z3, region, ta, tb, model) -> tuple[list, dict]:
    """(descriptions of the inputs' ranges, box for sampling: name -> (kind, lo, hi) or fixed values)."""
    out, box = [], {}
    names = list(ta.vars) + [n for n in tb.vars if n not in ta.vars]
    for name in names:
        tr = ta if name in ta.vars else tb
        _v, raw, kind = tr.vars[name]
        if kind in _UNBOUNDED:
            dlo, dhi = _UNBOUNDED[kind]
            lo = _optimum(z3, region, raw, True)
            hi = _optimum(z3, region, raw, False)
            lo = None if lo is None or lo <= dlo else lo
            hi = None if hi is None or hi >= dhi else hi
            box[name] = (kind, lo, hi)
            if lo is not None or hi is not None:
                out.append(f'{name} {_bound_text(kind, lo, hi)}')
        elif kind == 'bool':
            mv = z3.is_true(model.eval(raw, model_completion=True))
            s = z3.Solver()
            s.set('timeout', 2000)
            s.add(region, raw == (not mv))
            if s.check() == z3.unsat:
                out.append(f'{name} 为 {"是" if mv else "否"}')
                box[name] = ('fixed', [mv])
            else:
                box[name] = ('fixed', [True, False])
        elif kind == 'enum':
            values = list(tr.compiled.inputs[name][1])
            possible = []
            for i, v in enumerate(values):
                s = z3.Solver()
                s.set('timeout', 2000)
                s.add(region, raw == i)
                if s.check() != z3.unsat:
                    possible.append(v)
            if len(possible) < len(values):
                out.append(f'{name} 是 {possible[0]}' if len(possible) == 1
                           else f'{name} 属于（{"、".join(possible)}）')
            box[name] = ('fixed', possible or values)
    return out, box


def _sample(rng, box, base: dict) -> dict:
    facts = dict(base)
    for name, spec in box.items():
        if spec[0] == 'fixed':
            facts[name] = rng.choice(spec[1])
            continue
        kind, lo, hi = spec
        lo = 0 if lo is None else lo
        hi = lo + rng.choice([10 ** 6, 10 ** 9, 10 ** 11]) if hi is None else hi
        v = rng.randint(lo, hi)
        facts[name] = (Decimal(v) * FEN if kind == 'money' else Decimal(v) / 10000 if kind == 'percent' else v)
    return facts


def _roundest(lo: int, hi: int) -> int:
    for k in range(14, -1, -1):
        step = 10 ** k
        v = -(-lo // step) * step
        if v <= hi:
            return v
    return lo


def _nice(box, base: dict) -> dict:
    """A readable applicant in the box: each number the roundest value in its range."""
    facts = dict(base)
    for name, spec in box.items():
        if spec[0] == 'fixed':
            continue
        kind, lo, hi = spec
        unit = 100 if kind in ('money', 'percent') else 1
        lo0 = 0 if lo is None else lo
        cap = hi if hi is not None else max(lo0 * 4, 10 ** 6 * unit if kind == 'money' else 10 * unit)
        v = _roundest(lo0, cap)
        facts[name] = (Decimal(v) * FEN if kind == 'money' else Decimal(v) / 10000 if kind == 'percent' else v)
    return facts


