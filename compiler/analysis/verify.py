"""``polc verify``: guarantees (保证) — proved with an SMT solver where the rules are linear,
otherwise searched for counterexamples with hypothesis — and policy cliffs.

Guarantees checked:
- written ones: ``保证：目标 不超过 X`` (an item, a group or 合计), ``保证：目标 随 输入 不减``;
- implicit ones, for every item: the computed amount is never negative; it never exceeds its
  constant cap (最高 …); a rate-based amount never exceeds its base; for every group: 就高 pays
  at most one member (never the sum), 合计…最高 never exceeds its cap; the total is never negative.

Proofs are about the exact (unrounded) amount.  Rounding to the fen is monotone and every cap
and base is a whole number of fen, so a bound proved before rounding holds after it.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Callable, Optional

import attrs
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from polc.dsl import ast as A
from polc.dsl.units import format_money

from polc.compiler.python import runtime as R
from polc.compiler.analysis.interpreter import Interpreter
from polc.compiler.python.loader import CompiledPolicy

FEN = Decimal('0.01')
BASIS = Decimal('0.0001')


@attrs.define
class Guarantee:
    label: str                              # Chinese description
    origin: str                             # 'written' | 'implicit'
    holds: Callable                         # (raw result, raw result of the pair or None) -> bool
    item: Optional[A.Item] = None           # for solver proofs of item-level guarantees
    bound: Optional[tuple] = None           # ('<=' | '>=', Decimal or 'base:<input>')
    monotone_in: Optional[str] = None
    span: Optional[A.Span] = None


@attrs.define
class Outcome:
    guarantee: Guarantee
    status: str                             # proved | passed | failed
    method: str                             # solver | search
    examples: int = 0
    counterexample: Optional[dict] = None   # facts (JSON-ready) plus 'date'
    detail: str = ''

    def to_dict(self) -> dict:
        return {'guarantee': self.guarantee.label, 'origin': self.guarantee.origin,
                'status': self.status, 'method': self.method, 'examples': self.examples,
                'counterexample': self.counterexample, 'detail': self.detail}


@attrs.define
class Cliff:
    item: str
    input: str
    at: Decimal
    before: str
    after: str
    drop: Decimal

    def to_dict(self):
        return {'item': self.item, 'input': self.input, 'at': f'{self.at:f}', 'before': self.before,
                'after': self.after, 'drop': f'{self.drop:f}'}


# ------------------------------------------------------------------ values of targets
def _item_value(raw_item) -> Decimal:
    if raw_item['outcome'] == R.AMOUNT:
        return raw_item['paid']
    if raw_item['outcome'] == R.CEILING:
        return raw_item['ceiling'] if raw_item['ceiling'] is not None else Decimal(0)
    return Decimal(0)


def _pre_group_value(raw_item) -> Decimal:
    if raw_item['outcome'] in (R.AMOUNT, R.CEILING) and raw_item['amount'] is not None:
        return raw_item['amount']
    return Decimal(0)


def target_value(raw, target: Optional[str]) -> Decimal:
    if target is None:
        return raw['total'] + raw['ceiling_total']
    for it in raw['items']:
        if it['name'] == target:
            return _item_value(it)
    for g in raw['groups']:
        if g['name'] == target:
            return g['total'] or Decimal(0)
    return Decimal(0)


def _compare(op, a, b) -> bool:
    return {'<=': a <= b, '>=': a >= b, '<': a < b, '>': a > b, '==': a == b, '!=': a != b}[op]


# ------------------------------------------------------------------ the guarantees of a policy
def _leaves(am):
    out, stack = [], [am]
    while stack:
        a = stack.pop()
        if isinstance(a, A.Tiers):
            stack.extend(t.amount for t in a.tiers)
            if a.otherwise is not None:
                stack.append(a.otherwise)
        elif a is not None:
            out.append(a)
    return out


def _const(e) -> Optional[Decimal]:
    if isinstance(e, A.Money):
        return e.value
    return None


def _leaf_cap(leaf) -> Optional[Decimal]:
    """The constant cap of a money-yielding leaf, or None."""
    if isinstance(leaf, A.Ceiling):
        leaf = leaf.value
    if isinstance(leaf, (A.CaseByCase, A.Deferred, A.NonCash, A.NoAmount, A.ExplicitNA)):
        return Decimal(-1)          # yields no amount
    if isinstance(leaf, A.Money):
        return leaf.value
    caps = []
    while isinstance(leaf, A.Cap):
        c = _const(leaf.limit)
        if c is not None:
            caps.append(c)
        leaf = leaf.value
    return min(caps) if caps else None


def _leaf_base(leaf, checked) -> Optional[str]:
    """The input a rate-based leaf is a share of (base × rate ≤ 100%), or None."""
    if isinstance(leaf, A.Ceiling):
        leaf = leaf.value
    while isinstance(leaf, A.Cap):
        leaf = leaf.value
    if isinstance(leaf, A.BinOp) and leaf.op == '*':
        for base, rate in ((leaf.left, leaf.right), (leaf.right, leaf.left)):
            if isinstance(base, A.Ref) and base.name in checked.symbols.inputs and \
                    checked.type_of(base) == 'money' and isinstance(rate, A.Percent) and rate.value <= 1:
                return base.name
    return None


def guarantees_of(compiled: CompiledPolicy) -> list[Guarantee]:
    checked = compiled.analysis.checked
    p = checked.policy
    interp = Interpreter(checked, compiled.analysis.source)
    out: list[Guarantee] = []
    for g in p.guarantees:
        target = g.target.text if g.target is not None else None
        tname = f'「{target}」' if target else '合计'
        title = f'保证「{g.title}」：' if g.title else '保证：'
        if g.kind == 'bound':
            bound_expr = g.bound

            def holds(raw, _pair, target=target, op=g.op, bound_expr=bound_expr):
                bound = interp.value(bound_expr, raw['facts'], None)
                return _compare(op, target_value(raw, target), bound)
            const = _const(g.bound)
            item = None
            if target in checked.symbols.items and const is not None:
                item = checked.symbols.items[target][1]
            out.append(Guarantee(f'{title}{tname} {g.word} {interp._src(g.bound)}', 'written', holds,
                                 item=item, bound=(g.op, const) if const is not None else None,
                                 span=g.span))
        else:
            def holds(raw, pair, target=target):
                return pair is None or target_value(pair, target) >= target_value(raw, target)
            item = checked.symbols.items[target][1] if target in checked.symbols.items else None
            out.append(Guarantee(f'{title}{tname} 随「{g.input.text}」不减', 'written', holds,
                                 item=item, monotone_in=g.input.text, span=g.span))
    for c, it in p.items():
        name = it.name.text

        def nonneg(raw, _pair, name=name):
            r = next(x for x in raw['items'] if x['name'] == name)
            return not any('为负' in s for s in r['steps']) and _pre_group_value(r) >= 0
        out.append(Guarantee(f'「{name}」金额不为负', 'implicit', nonneg, item=it, bound=('>=', Decimal(0)),
                             span=it.span))
        leaves = [l for l in _leaves(it.amount)]
        caps = [_leaf_cap(l) for l in leaves]
        if caps and all(x is not None for x in caps) and max(caps) >= 0:
            cap = max(caps)

            def capped(raw, _pair, name=name, cap=cap):
                r = next(x for x in raw['items'] if x['name'] == name)
                return _pre_group_value(r) <= cap
            out.append(Guarantee(f'「{name}」不超过上限 {format_money(cap)}', 'implicit', capped, item=it,
                                 bound=('<=', cap), span=it.span))
        bases = [_leaf_base(l, checked) for l in leaves if _leaf_cap(l) != Decimal(-1)]
        if bases and all(b is not None for b in bases) and len(set(bases)) == 1:
            base = bases[0]

            def share(raw, _pair, name=name, base=base):
                r = next(x for x in raw['items'] if x['name'] == name)
                return _pre_group_value(r) <= raw['facts'][base]
            out.append(Guarantee(f'「{name}」按比例计算的金额不超过其基数「{base}」', 'implicit', share,
                                 item=it, bound=('<=', f'base:{base}'), span=it.span))
    for g in p.groups:
        gname = g.name.text
        members = [m.text for m in g.members]
        if g.mode == 'highest':
            def one(raw, _pair, gname=gname, members=members):
                paid = [m for m in members if target_value(raw, m) > 0]
                return len(paid) <= 1
            out.append(Guarantee(f'组「{gname}」就高：至多一项获得金额，从不相加', 'implicit', one, span=g.span))
        else:
            cap = _const(g.cap)

            def capped_group(raw, _pair, gname=gname, members=members, cap=cap):
                return sum((target_value(raw, m) for m in members), Decimal(0)) <= cap
            out.append(Guarantee(f'组「{gname}」合计不超过 {format_money(cap)}', 'implicit', capped_group,
                                 span=g.span))
    out.append(Guarantee('合计不为负', 'implicit',
                         lambda raw, _pair: raw['total'] >= 0 and raw['ceiling_total'] >= 0))
    return out


# ------------------------------------------------------------------ search
def _jsonable_facts(values: dict, date, inputs=None) -> dict:
    """Facts as JSON values; inputs equal to their default are left out (they need not be given)."""
    out = {}
    for k, v in values.items():
        if inputs is not None and inputs[k][2] is not None and inputs[k][2] == v:
            continue
        if isinstance(v, Decimal):
            out[k] = f'{v:f}'
        elif isinstance(v, dt.date):
            out[k] = v.isoformat()
        else:
            out[k] = v
    if date is not None:
        out['日期'] = date.isoformat() if hasattr(date, 'isoformat') else str(date)
    return out


def search(compiled: CompiledPolicy, g: Guarantee, examples: int) -> Outcome:
    import polc.testing as T
    count = [0]
    facts_st = T.facts(compiled, optional=False)
    date_st = T.dates(compiled)
    if g.monotone_in is not None:
        kind = compiled.inputs[g.monotone_in][0]
        delta = {'money': st.integers(1, 10 ** 10).map(lambda f: Decimal(f) * FEN),
                 'int': st.integers(1, 20),
                 'percent': st.integers(1, 10000).map(lambda b: Decimal(b) * BASIS)}[kind]
        strategy = st.tuples(facts_st, date_st, delta)
    else:
        strategy = st.tuples(facts_st, date_st, st.just(None))

    def violates(example):
        facts, date, d = example
        count[0] += 1
        try:
            raw = compiled.evaluate_raw(facts, date, True)
            pair = None
            if d is not None:
                bigger = dict(facts)
                bigger[g.monotone_in] = raw['facts'][g.monotone_in] + d
                pair = compiled.evaluate_raw(bigger, date, False)
        except R.FactsError:
            return False
        return not g.holds(raw, pair)

    cfg = settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck),
                   phases=[Phase.explicit, Phase.generate, Phase.shrink])
    try:
        facts, date, d = find(strategy, violates, settings=cfg)
    except (NoSuchExample, Unsatisfiable):
        return Outcome(g, 'passed', 'search', examples=count[0])
    raw = compiled.evaluate_raw(facts, date, False)
    cx = _jsonable_facts(raw['facts'], raw['date'], compiled.inputs)
    detail = ''
    if d is not None:
        detail = f'「{g.monotone_in}」增加 {d} 后金额下降'
    return Outcome(g, 'failed', 'search', examples=count[0], counterexample=cx, detail=detail)


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


# ------------------------------------------------------------------ cliffs
def cliffs(compiled: CompiledPolicy, threshold: Decimal) -> list[Cliff]:
    """Points where one fen more of a money input lowers an item's amount by more than ``threshold``."""
    checked = compiled.analysis.checked
    p = checked.policy
    meta = compiled.meta
    date = meta.get('effective') or meta.get('issued') or dt.date.today()
    if meta.get('expiry') and date > meta['expiry']:
        date = meta['expiry']
    money_inputs = [n for n, (k, *_r) in compiled.inputs.items() if k == 'money']
    points = sorted({n.value for n in A.walk(p) if isinstance(n, A.Money) and n.value > 0})
    found: dict = {}
    for name in money_inputs:
        for t in points:
            facts_lo = {name: t - FEN}
            facts_hi = {name: t}
            try:
                lo = compiled.evaluate_raw(_fill(compiled, facts_lo), date, False)
                hi = compiled.evaluate_raw(_fill(compiled, facts_hi), date, False)
            except R.FactsError:
                continue
            for a, b in zip(lo['items'], hi['items']):
                va, vb = _pre_group_value(a), _pre_group_value(b)
                if va - vb > threshold:
                    key = (a['name'], name, t)
                    found[key] = Cliff(a['name'], name, t, _describe(a), _describe(b), va - vb)
    return list(found.values())


def _fill(compiled, facts):
    """Facts with required inputs given neutral values (0元, 0, the first enumeration value …)."""
    out = dict(facts)
    for name, (kind, values, default, _d) in compiled.inputs.items():
        if name in out or default is not None:
            continue
        out[name] = {'money': Decimal(0), 'percent': Decimal(0), 'int': 1, 'bool': False,
                     'date': dt.date(2025, 1, 1), 'enum': values[0] if values else ''}[kind]
    return out


def _describe(raw_item) -> str:
    if raw_item['outcome'] == R.AMOUNT:
        return format_money(raw_item['amount'])
    if raw_item['outcome'] == R.CEILING:
        return f'最高可获 {format_money(raw_item["amount"])}'
    return R.OUTCOME_LABELS[raw_item['outcome']]


# ------------------------------------------------------------------ entry point
@attrs.define
class Report:
    file: str
    policy: str
    outcomes: list[Outcome]
    cliffs: list[Cliff]

    @property
    def failed(self) -> bool:
        return any(o.status == 'failed' for o in self.outcomes)

    def to_dict(self) -> dict:
        return {'file': self.file, 'policy': self.policy,
                'guarantees': [o.to_dict() for o in self.outcomes],
                'cliffs': [c.to_dict() for c in self.cliffs]}


def verify(compiled: CompiledPolicy, examples: int = 500, cliff_threshold: Decimal = Decimal(10000),
           use_solver: bool = True) -> Report:
    outcomes = []
    for g in guarantees_of(compiled):
        out = prove(compiled, g) if use_solver else None
        if out is not None and out.status == 'failed':
            # confirm the solver's model on the real evaluation; otherwise search
            facts = dict(out.counterexample)
            date = compiled.meta.get('effective') or compiled.meta.get('issued')
            try:
                raw = compiled.evaluate_raw(facts, date, True)
                confirmed = not g.holds(raw, None) if g.monotone_in is None else True
            except R.FactsError:
                confirmed = False
            if date is not None:
                out.counterexample['日期'] = date.isoformat()
            if not confirmed:
                out = None
        if out is None:
            out = search(compiled, g, examples)
        outcomes.append(out)
    return Report(compiled.analysis.file, compiled.name, outcomes, cliffs(compiled, cliff_threshold))


def render(report: Report) -> str:
    lines = [f'{report.policy}（{report.file}）']
    for o in report.outcomes:
        if o.status == 'proved':
            lines.append(f'  ✓ 已证明（求解器）  {o.guarantee.label}')
        elif o.status == 'passed':
            lines.append(f'  ✓ 未发现反例（{o.examples} 例）  {o.guarantee.label}')
        else:
            how = '求解器' if o.method == 'solver' else f'搜索 {o.examples} 例'
            lines.append(f'  ✗ 不成立（{how}）  {o.guarantee.label}')
            lines.append('      反例：' + json.dumps(o.counterexample, ensure_ascii=False))
            if o.detail:
                lines.append(f'      说明：{o.detail}')
    for c in report.cliffs:
        lines.append(f'  警告[悬崖] 「{c.item}」：「{c.input}」为 {format_money(c.at - FEN)} 时 {c.before}，'
                     f'为 {format_money(c.at)} 时 {c.after}（多 1 分钱，少 {format_money(c.drop)}）')
    n = len(report.outcomes)
    proved = sum(1 for o in report.outcomes if o.status == 'proved')
    passed = sum(1 for o in report.outcomes if o.status == 'passed')
    failed = n - proved - passed
    lines.append(f'  共 {n} 条保证：证明 {proved}，搜索未发现反例 {passed}，不成立 {failed}；悬崖 {len(report.cliffs)} 处')
    return '\n'.join(lines) + '\n'
