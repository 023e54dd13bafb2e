"""Proofs with z3: an item's rules translated into linear real/integer arithmetic; a guarantee is
proved when its negation is unsatisfiable.  Rules that are not linear raise :class:`NotLinear`."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional


from polc.dsl import ast as A

from polc.compiler.python.loader import CompiledPolicy
from polc.compiler.analysis.guarantees import BASIS, FEN, Guarantee, Outcome


# ------------------------------------------------------------------ solver
class NotLinear(Exception):
    pass


class _Z3:
    """Translation of an item's rules into linear real/integer arithmetic for z3."""

    def __init__(self, compiled: CompiledPolicy, suffix: str = ''):
        import z3
        self.z3 = z3
        self.compiled = compiled
        self.checked = compiled.analysis.checked
        self.suffix = suffix
        self.vars: dict = {}
        self.constraints: list = []
        self.defines = {d.name.text: d for d in self.checked.policy.defines}

    def var(self, name: str):
        z3 = self.z3
        if name in self.vars:
            return self.vars[name][0]
        kind, values, _default, _d = self.compiled.inputs[name]
        key = f'{name}{self.suffix}'
        if kind == 'money':
            fen = z3.Int(key + '#fen')
            self.constraints += [fen >= 0, fen <= 10 ** 22]
            v = z3.ToReal(fen) / 100
            self.vars[name] = (v, fen, kind)
        elif kind == 'percent':
            bp = z3.Int(key + '#bp')
            self.constraints += [bp >= -10 ** 10, bp <= 10 ** 10]
            v = z3.ToReal(bp) / 10000
            self.vars[name] = (v, bp, kind)
        elif kind == 'int':
            v = z3.Int(key)
            self.constraints += [v >= -10 ** 12, v <= 10 ** 12]
            self.vars[name] = (v, v, kind)
        elif kind == 'bool':
            v = z3.Bool(key)
            self.vars[name] = (v, v, kind)
        elif kind == 'enum':
            v = z3.Int(key)
            self.constraints += [v >= 0, v < len(values)]
            self.vars[name] = (v, v, kind)
        else:
            raise NotLinear('date input')
        return v

    def enum_index(self, input_name: str, value: str) -> int:
        return list(self.compiled.inputs[input_name][1]).index(value)

    def is_const(self, e) -> bool:
        return all(not isinstance(n, A.Ref) or (n.name not in self.compiled.inputs and n.name not in self.defines)
                   for n in A.walk(e))

    def val(self, e):
        """(z3 value, z3 applicability) of an expression."""
        z3 = self.z3
        T = z3.BoolVal(True)
        if isinstance(e, (A.Money, A.Percent)):
            return z3.RealVal(str(e.value)), T
        if isinstance(e, A.Number):
            return (z3.IntVal(int(e.value)) if e.is_int else z3.RealVal(str(e.value))), T
        if isinstance(e, A.Bool):
            return z3.BoolVal(e.value), T
        if isinstance(e, A.DateLit):
            raise NotLinear('date')
        if isinstance(e, A.Ref):
            if e.name in self.compiled.inputs:
                return self.var(e.name), T
            if e.name in self.defines:
                return self.val(self.defines[e.name].expr)
            return e.name, T              # an enumeration value, resolved by the comparison
        if isinstance(e, A.Neg):
            v, ok = self.val(e.operand)
            return -v, ok
        if isinstance(e, A.BinOp):
            a, oa = self.val(e.left)
            b, ob = self.val(e.right)
            ok = z3.And(oa, ob)
            if e.op == '+':
                return a + b, ok
            if e.op == '-':
                return a - b, ok
            if e.op == '*':
                if not (self.is_const(e.left) or self.is_const(e.right)):
                    raise NotLinear('product of two inputs')
                return a * b, ok
            if not self.is_const(e.right):
                raise NotLinear('division by an input')
            return a / b, z3.And(ok, b != 0)
        if isinstance(e, A.Compare):
            a, oa = self.val(e.left)
            b, ob = self.val(e.right)
            a, b = self._enum_pair(e.left, a, e.right, b)
            return {'>=': a >= b, '<=': a <= b, '>': a > b, '<': a < b, '==': a == b,
                    '!=': a != b}[e.op], z3.And(oa, ob)
        if isinstance(e, A.Range):
            x, ok = self.val(e.subject)
            conds = []
            for bd, lower in ((e.low, True), (e.high, False)):
                if bd is None:
                    continue
                v, o = self.val(bd.value)
                ok = z3.And(ok, o)
                if lower:
                    conds.append(x >= v if bd.inclusive else x > v)
                else:
                    conds.append(x <= v if bd.inclusive else x < v)
            return z3.And(*conds), ok
        if isinstance(e, A.Is):
            x, ok = self.val(e.subject)
            return x == self.enum_index(e.subject.name, e.value.text), ok
        if isinstance(e, A.In):
            x, ok = self.val(e.subject)
            return z3.Or(*[x == self.enum_index(e.subject.name, v.text) for v in e.values]), ok
        if isinstance(e, (A.And, A.Or)):
            a, oa = self.val(e.left)
            b, ob = self.val(e.right)
            if isinstance(e, A.And):
                return z3.And(a, b), z3.And(oa, z3.Implies(a, ob))
            return z3.Or(a, b), z3.And(oa, z3.Implies(z3.Not(a), ob))
        if isinstance(e, A.Not):
            a, oa = self.val(e.operand)
            return z3.Not(a), oa
        if isinstance(e, (A.Cap, A.MinOf, A.MaxOf)):
            parts = [e.value, e.limit] if isinstance(e, A.Cap) else list(e.values)
            vals = [self.val(x) for x in parts]
            v = vals[0][0]
            for w, _o in vals[1:]:
                v = z3.If(v <= w, v, w) if not isinstance(e, A.MaxOf) else z3.If(v >= w, v, w)
            return v, z3.And(*[o for _v, o in vals])
        if isinstance(e, A.PerStep):
            if not self.is_const(e.step):
                raise NotLinear('step')
            base, ob = self.val(e.base)
            step, _ = self.val(e.step)
            award, oa = self.val(e.award)
            if not self.is_const(e.award):
                raise NotLinear('award')
            n = z3.ToReal(z3.ToInt(base / step)) if e.full_steps else base / step
            return n * award, z3.And(ob, oa)
        if isinstance(e, A.Schedule):
            idx, ok = self.val(e.index)
            v, cover = None, []
            for en in reversed(e.entries):
                ev, eo = self.val(en.value)
                c = z3.Or(*[idx == y for y in en.years]) if en.years else z3.BoolVal(False)
                cover.append(c)
                v = ev if v is None else z3.If(c, ev, v)
            return v, z3.And(ok, z3.Or(*cover))
        if isinstance(e, A.ByCategory):
            x, ok = self.val(e.subject)
            v, cover = None, []
            for en in reversed(e.entries):
                ev, _ = self.val(en.value)
                c = x == self.enum_index(e.subject.name, en.category.text)
                cover.append(c)
                v = ev if v is None else z3.If(c, ev, v)
            return v, z3.And(ok, z3.Or(*cover))
        if isinstance(e, A.Progressive):
            base, ok = self.val(e.base)
            v = z3.RealVal(0)
            for s in e.steps:
                t, _ = self.val(s.threshold)
                a, _ = self.val(s.award)
                v = z3.If(base >= t, a, v)
            t0, _ = self.val(e.steps[0].threshold)
            ok = z3.And(ok, base >= t0)
            if e.received is not None:
                r, orr = self.val(e.received)
                v = z3.If(v - r >= 0, v - r, z3.RealVal(0))
                ok = z3.And(ok, orr)
            return v, ok
        raise NotLinear(type(e).__name__)

    def _enum_pair(self, le, a, re_, b):
        if isinstance(a, str) and isinstance(re_, A.Ref) and re_.name in self.compiled.inputs:
            return self.z3.IntVal(self.enum_index(re_.name, a)), b
        if isinstance(b, str) and isinstance(le, A.Ref) and le.name in self.compiled.inputs:
            return a, self.z3.IntVal(self.enum_index(le.name, b))
        return a, b

    KINDS = {'not_applicable': 0, 'amount': 1, 'ceiling': 2, 'deferred': 3, 'case_by_case': 4,
             'non_cash': 5, 'no_amount': 6}

    def amount(self, am):
        """(value, outcome kind as an integer, see KINDS) of an item's amount."""
        z3 = self.z3
        K = self.KINDS
        if isinstance(am, A.Tiers):
            v, kind = z3.RealVal(0), z3.IntVal(K['not_applicable'])
            if am.otherwise is not None:
                v, kind = self.amount(am.otherwise)
            for t in reversed(am.tiers):
                c, oc = self.val(t.condition)
                tv, tk = self.amount(t.amount)
                v = z3.If(c, tv, v)
                kind = z3.If(oc, z3.If(c, tk, kind), z3.IntVal(K['not_applicable']))
            return v, kind
        simple = {A.CaseByCase: 'case_by_case', A.Deferred: 'deferred', A.NonCash: 'non_cash',
                  A.NoAmount: 'no_amount', A.ExplicitNA: 'not_applicable'}
        if am is None or type(am) in simple:
            return z3.RealVal(0), z3.IntVal(K[simple.get(type(am), 'no_amount')])
        ceiling = isinstance(am, A.Ceiling)
        if ceiling:
            am = am.value
        elif self.checked.policy.header_value('rates_are_maxima', False) and any(
                isinstance(n, A.BinOp) and n.op == '*' and 'percent' in (
                    self.checked.type_of(n.left), self.checked.type_of(n.right)) for n in A.walk(am)):
            ceiling = True
        v, ok = self.val(am)
        return v, z3.If(ok, z3.IntVal(K['ceiling' if ceiling else 'amount']), z3.IntVal(K['not_applicable']))

    def item_kind(self, it: A.Item):
        """(value, outcome kind) of an item, conditions included."""
        z3 = self.z3
        ok = z3.BoolVal(True)
        for c in it.conditions:
            v, o = self.val(c)
            ok = z3.And(ok, o, v)
        v, kind = self.amount(it.amount)
        return v, z3.If(ok, kind, z3.IntVal(self.KINDS['not_applicable']))

    def item(self, it: A.Item):
        """(value, yields an amount or a ceiling) of an item."""
        v, kind = self.item_kind(it)
        return v, self.z3.Or(kind == self.KINDS['amount'], kind == self.KINDS['ceiling'])

    def facts_from_model(self, model) -> dict:
        out = {}
        for name, (_v, raw, kind) in self.vars.items():
            m = model.eval(raw, model_completion=True)
            if kind == 'money':
                out[name] = f'{(Decimal(m.as_long()) * FEN):f}'
            elif kind == 'percent':
                out[name] = f'{(Decimal(m.as_long()) * BASIS):f}'
            elif kind == 'int':
                out[name] = m.as_long()
            elif kind == 'bool':
                out[name] = bool(z3_true(m))
            elif kind == 'enum':
                out[name] = self.compiled.inputs[name][1][m.as_long()]
        return out


def z3_true(m) -> bool:
    import z3
    return z3.is_true(m)


def prove(compiled: CompiledPolicy, g: Guarantee, timeout_ms: int = 10000) -> Optional[Outcome]:
    """Try to prove an item-level guarantee; None when the rules are not linear (search instead)."""
    if g.item is None or (g.bound is None and g.monotone_in is None):
        return None
    try:
        import z3
    except ImportError:
        return None
    try:
        tr = _Z3(compiled)
        v, ok = tr.item(g.item)
        s = z3.Solver()
        s.set('timeout', timeout_ms)
        if g.monotone_in is not None:
            tr2 = _Z3(compiled, suffix="'")
            v2, ok2 = tr2.item(g.item)
            for name in set(tr.vars) | set(tr2.vars):
                a, b = tr.var(name), tr2.var(name)
                if name == g.monotone_in:
                    s.add(b >= a)
                else:
                    s.add(a == b)
            s.add(tr.constraints + tr2.constraints)
            lo = z3.If(ok, v, z3.RealVal(0))
            hi = z3.If(ok2, v2, z3.RealVal(0))
            s.add(hi < lo)
        else:
            op, bound = g.bound
            if isinstance(bound, str):
                b = tr.var(bound.split(':', 1)[1])
            else:
                b = z3.RealVal(str(bound))
            s.add(tr.constraints)
            s.add(ok)
            s.add(z3.Not({'<=': v <= b, '>=': v >= b, '<': v < b, '>': v > b, '==': v == b}[op]))
    except (NotLinear, z3.Z3Exception, ValueError, KeyError):
        return None
    r = s.check()
    if r == z3.unsat:
        return Outcome(g, 'proved', 'solver')
    if r == z3.sat:
        model = s.model()
        facts = tr.facts_from_model(model)
        detail = '求解器给出的反例'
        if g.monotone_in is not None:
            bigger = tr2.facts_from_model(model)
            detail = (f'「{g.monotone_in}」由 {facts.get(g.monotone_in)} 增至 {bigger.get(g.monotone_in)} 时，'
                      f'金额由 {model.eval(lo, model_completion=True)} 降为 '
                      f'{model.eval(hi, model_completion=True)}（求解器给出的反例）')
        return Outcome(g, 'failed', 'solver', counterexample=facts, detail=detail)
    return None
