"""``polc verify``: guarantees (保证) — proved with an SMT solver where the rules are linear,
otherwise searched for counterexamples with hypothesis — and policy cliffs.

Guarantees checked:
- written ones: ``保证：目标 不超过 X`` (an item, a group or 合计), ``保证：目标 随 输入 不减``;
- implicit ones, for every item: the computed amount is never negative; it never exceeds its
  constant cap (最高 …); a rate-based amount never exceeds its base; for every group: 就高 pays
  at most one member (never the sum), 合计…最高 never exceeds its cap; the total is never negative.

Proofs are about the exact (unrounded) amount.  Rounding to the fen is monotone and every cap
and base is a whole number of fen, so a bound proved before rounding holds after it.

This module searches (hypothesis) and reports; the guarantees are in ``guarantees``, the proofs in
``solver``.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import attrs
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from polc.dsl import ast as A
from polc.dsl.units import format_money

from polc.compiler.python import runtime as R
from polc.compiler.python.loader import CompiledPolicy
from polc.compiler.analysis.guarantees import (BASIS, FEN, Cliff, Guarantee, Outcome, _jsonable_facts, _pre_group_value,
                                               guarantees_of)
from polc.compiler.analysis.solver import prove


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
           use_solver: bool = True, progress=None) -> Report:
    """Prove or search each guarantee, then look for cliffs.  ``progress``, when given, is called
    as ``progress(done, total)`` after each guarantee."""
    outcomes = []
    guarantees = list(guarantees_of(compiled))
    for g in guarantees:
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
        if progress is not None:
            progress(len(outcomes), len(guarantees))
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
