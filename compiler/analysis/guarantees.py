"""Guarantees (保证) of a policy: the written ones and the implicit ones (amounts never negative, caps,
rate-based amounts never above their base, 就高 pays one member, 合计…最高 holds), and the values
they speak of."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Callable, Optional

import attrs

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


def _record_values(raw_item) -> list:
    """The computed amount of each record of a per-record item (one value for flat facts)."""
    recs = raw_item.get('records')
    if recs is None:
        return [_pre_group_value(raw_item)]
    return [r['amount'] if r['outcome'] in (R.AMOUNT, R.CEILING) and r['amount'] is not None else Decimal(0)
            for r in recs]


def _record_facts(raw, kind: str, n: int) -> list:
    """The facts of each record of ``kind`` (the applicant's facts, for flat facts)."""
    listed = raw['facts'].get(kind)
    return listed if isinstance(listed, list) else [raw['facts']] * n


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
                if item.per_record:
                    item = None     # the solver sees one record; several are searched
            out.append(Guarantee(f'{title}{tname} {g.word} {interp._src(g.bound)}', 'written', holds,
                                 item=item, bound=(g.op, const) if const is not None else None,
                                 span=g.span))
        else:
            def holds(raw, pair, target=target):
                return pair is None or target_value(pair, target) >= target_value(raw, target)
            item = checked.symbols.items[target][1] if target in checked.symbols.items else None
            if item is not None and item.per_record:
                item = None
            out.append(Guarantee(f'{title}{tname} 随「{g.input.text}」不减', 'written', holds,
                                 item=item, monotone_in=g.input.text, span=g.span))
    for c, it in p.items():
        name = it.name.text
        each = f'每个{it.per_record}' if it.per_record else ''

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
                return all(v <= cap for v in _record_values(r))
            out.append(Guarantee(f'「{name}」{each}不超过上限 {format_money(cap)}', 'implicit', capped, item=it,
                                 bound=('<=', cap), span=it.span))
        bases = [_leaf_base(l, checked) for l in leaves if _leaf_cap(l) != Decimal(-1)]
        if bases and all(b is not None for b in bases) and len(set(bases)) == 1:
            base = bases[0]

            def share(raw, _pair, name=name, base=base, kind=it.per_record):
                r = next(x for x in raw['items'] if x['name'] == name)
                values = _record_values(r)
                facts = _record_facts(raw, kind, len(values)) if kind else [raw['facts']]
                return all(v <= f[base] for v, f in zip(values, facts))
            out.append(Guarantee(f'「{name}」{each}按比例计算的金额不超过其基数「{base}」', 'implicit', share,
                                 item=it, bound=('<=', f'base:{base}'), span=it.span))
        firm_caps = [_leaf_cap(x) for x in _leaves(it.firm_cap)] if it.firm_cap is not None else []
        firm_cap = max(firm_caps) if firm_caps and all(x is not None for x in firm_caps) else None
        if firm_cap is not None and firm_cap >= 0:
            def firm_capped(raw, _pair, name=name, cap=firm_cap):
                r = next(x for x in raw['items'] if x['name'] == name)
                return _pre_group_value(r) <= cap
            out.append(Guarantee(f'「{name}」{it.firm_cap_word} {format_money(firm_cap)}：'
                                 f'无论几个{it.per_record}，合计不超过', 'implicit', firm_capped, span=it.span))
    for g in p.groups:
        gname = g.name.text
        members = [m.text for m in g.members]
        if g.per_record:
            def one_each(raw, _pair, members=members):
                recs = [next(x for x in raw['items'] if x['name'] == m) for m in members]
                if any(r.get('records') is None for r in recs):
                    return len([r for r in recs if _item_value(r) > 0]) <= 1
                return all(len([r for r in recs if r['records'][j]['paid']]) <= 1
                           for j in range(len(recs[0]['records'])))
            out.append(Guarantee(f'组「{gname}」每个{g.per_record}就高：同一{g.per_record}至多一项获得金额',
                                 'implicit', one_each, span=g.span))
        elif g.mode == 'highest':
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
        if inputs is not None and k in inputs and inputs[k][2] is not None and inputs[k][2] == v:
            continue
        if isinstance(v, list):         # records listed one by one
            out[k] = [{n: x for n, x in _jsonable_facts(r, None, inputs).items() if n != '名称' or x}
                      for r in v]
        elif isinstance(v, Decimal):
            out[k] = f'{v:f}'
        elif isinstance(v, dt.date):
            out[k] = v.isoformat()
        else:
            out[k] = v
    if date is not None:
        out['日期'] = date.isoformat() if hasattr(date, 'isoformat') else str(date)
    return out
