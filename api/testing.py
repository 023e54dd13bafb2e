"""Hypothesis strategies for a policy's facts, for embedders' own property tests.

    from hypothesis import given
    import polc, polc.testing

    policy = polc.load('policies/xiamen.pol')

    @given(polc.testing.facts(policy))
    def test_never_negative(facts):
        result = policy.evaluate(facts, date='2025-06-01')
        assert result.total >= 0

Money is drawn over orders of magnitude (0 to 10^12 元, to the fen) and at every
threshold written in the policy, exactly and one fen either side; integers around
the years of schedules; every enumeration value; both booleans; dates around the
validity bounds.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from polc.dsl import ast as A

FEN = Decimal('0.01')


def thresholds(policy) -> dict:
    """Literal values written in the policy, by type: {'money': [...], 'percent': [...], 'int': [...]}."""
    out: dict[str, set] = {'money': set(), 'percent': set(), 'int': set()}
    for n in A.walk(policy.policy if hasattr(policy, 'policy') else policy):
        if isinstance(n, A.Money):
            out['money'].add(n.value)
        elif isinstance(n, A.Percent):
            out['percent'].add(n.value)
        elif isinstance(n, A.Number) and n.is_int:
            out['int'].add(int(n.value))
        elif isinstance(n, A.ScheduleEntry):
            out['int'].update(n.years)
    return {k: sorted(v) for k, v in out.items()}


def money(points=()) -> st.SearchStrategy:
    """Money in 元 (Decimal, to the fen): spread over magnitudes, plus points ± 1 fen."""
    spread = st.integers(min_value=0, max_value=12).flatmap(
        lambda e: st.integers(min_value=0, max_value=10 ** e * 100)).map(lambda f: Decimal(f) * FEN)
    near = []
    for p in points:
        near.extend(v for v in (p - FEN, p, p + FEN) if v >= 0)
    if not near:
        return spread
    return st.one_of(spread, st.sampled_from(sorted(set(near))))


def percent(points=()) -> st.SearchStrategy:
    base = st.integers(min_value=-100_00, max_value=1000_00).map(lambda b: Decimal(b) / Decimal(10000))
    pts = sorted({v for p in points for v in (p - Decimal('0.0001'), p, p + Decimal('0.0001'))})
    return st.one_of(base, st.sampled_from(pts)) if pts else base


def integers(points=()) -> st.SearchStrategy:
    near = sorted({v for p in points for v in (p - 1, p, p + 1) if v >= 0})
    base = st.integers(min_value=0, max_value=20)
    return st.one_of(base, st.sampled_from(near)) if near else base


def facts(policy, optional: bool = True) -> st.SearchStrategy:
    """A strategy of facts dicts for a compiled policy (``polc.load(...)``).

    With ``optional``, inputs that have defaults are sometimes left out.
    """
    records = getattr(policy, 'records', None) or {}
    if records:
        return st.one_of(_fact_dicts(policy, optional, policy.inputs), _listed_facts(policy, optional, records))
    return _fact_dicts(policy, optional, policy.inputs)


def _listed_facts(policy, optional: bool, records: dict) -> st.SearchStrategy:
    """An applicant with a list of 0 to 4 records of each kind (一个申请人、多个项目)."""
    own = {n for _d, names in records.values() for n in names}
    base = _fact_dicts(policy, optional, {n: v for n, v in policy.inputs.items() if n not in own})
    lists = {k: st.lists(_fact_dicts(policy, optional, {n: policy.inputs[n] for n in names}), max_size=4)
             for k, (_d, names) in records.items()}
    return st.tuples(base, st.fixed_dictionaries(lists)).map(lambda p: {**p[0], **p[1]})


def _fact_dicts(policy, optional: bool, inputs: dict) -> st.SearchStrategy:
    th = thresholds(policy)
    required, optional_items = {}, {}
    for name, (kind, values, default, _desc) in inputs.items():
        if kind == 'money':
            s = money(th['money'])
        elif kind == 'percent':
            s = percent(th['percent'])
        elif kind == 'int':
            s = integers(th['int'])
        elif kind == 'bool':
            s = st.booleans()
        elif kind == 'date':
            s = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31))
        else:
            s = st.sampled_from(list(values))
        if default is None or not optional:
            required[name] = s
        else:
            optional_items[name] = s
    return st.fixed_dictionaries(required, optional=optional_items)


def dates(policy) -> st.SearchStrategy:
    """Evaluation dates around the validity bounds of the policy (and anywhere in 2020–2035)."""
    meta = policy.meta
    points = [d for d in (meta.get('issued'), meta.get('effective'), meta.get('expiry')) if d]
    near = [d + dt.timedelta(days=k) for d in points for k in (-1, 0, 1)
            if dt.date.min + dt.timedelta(days=1) <= d <= dt.date.max - dt.timedelta(days=1) or k == 0]
    anywhere = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))
    return st.one_of(anywhere, st.sampled_from(near)) if near else anywhere
