"""``polc diff``, semantic part: for every item whose amount or outcome can differ between two
versions, the region of inputs where it differs, with a witness applicant evaluated under both.

Where both versions of an item are linear (as ``polc verify`` requires) the solver decides:
either no applicant gets a different outcome or amount (proved), or it yields witnesses, one per
combination of branches (tiers) taken by the two versions; the region of each is described by the
range of every input over it (found by optimisation, in the policy's own range words) and checked
on sampled applicants.  Otherwise witnesses are searched for (hypothesis), and the output says so.
Every witness is confirmed by evaluating both compiled policies.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Optional

import attrs

from polc.dsl import ast as A
from polc.dsl.units import format_money

from polc.compiler.python import runtime as R
from polc.compiler.analysis.interpreter import Interpreter
from polc.compiler.analysis.guarantees import FEN, _jsonable_facts
from polc.compiler.analysis.solver import NotLinear, _Z3
from polc.compiler.analysis.diff_regions import (_DiffZ3, _describe_region, _link, _nice, _sample,
                                                 _tier_index)
from polc.compiler.analysis.verify import _fill
from polc.compiler.analysis.diff_structure import Version, benefits, same_rules

MAX_REGIONS = 6
SAMPLES = 24


@attrs.define
class Region:
    conditions: list            # descriptions: 「年度营业收入 在 1亿元（含） 至 10亿元（不含）」 …
    old_branch: str
    new_branch: str
    witness: dict               # facts (JSON-ready), accepted by ``polc eval`` on both versions
    old: str                    # outcome at the witness, old and new
    new: str
    old_amount: Optional[Decimal]
    new_amount: Optional[Decimal]
    constant: bool = False      # the amounts are the same everywhere in the region
    sampled: int = 0
    sampled_differ: int = 0

    def to_dict(self) -> dict:
        return {'conditions': self.conditions, 'old_branch': self.old_branch, 'new_branch': self.new_branch,
                'witness': self.witness, 'old': self.old, 'new': self.new,
                'old_amount': _dec(self.old_amount), 'new_amount': _dec(self.new_amount),
                'constant': self.constant, 'sampled': self.sampled, 'sampled_differ': self.sampled_differ}


@attrs.define
class ItemDiff:
    item: str                   # the name in the new version (the old one when removed)
    old_name: str
    status: str                 # same | differs | unknown
    method: str                 # rules (identical rules) | solver | search
    regions: list = attrs.Factory(list)
    complete: bool = False      # solver: every region is listed
    examples: int = 0
    note: str = ''
    kind: str = 'item'          # item | group

    def to_dict(self) -> dict:
        return {'item': self.item, 'kind': self.kind, 'old_name': self.old_name, 'status': self.status, 'method': self.method,
                'complete': self.complete, 'examples': self.examples, 'note': self.note,
                'regions': [r.to_dict() for r in self.regions]}


def _dec(v):
    return None if v is None else f'{v:f}'


def common_date(old, new) -> dt.date:
    """A date inside both validity periods when there is one (else the new version's start)."""
    starts = [m.get('effective') or m.get('issued') for m in (old.meta, new.meta)]
    ends = [m.get('expiry') for m in (old.meta, new.meta)]
    end = min([e for e in ends if e], default=None)
    start = max([s for s in starts if s], default=None)
    if start is None:           # no start written: today, or the last valid day once it is past
        start = min(dt.date.today(), end) if end is not None else dt.date.today()
    if end is not None and start > end:
        return new.meta.get('effective') or new.meta.get('issued') or start
    return start


# ------------------------------------------------------------------ evaluating a witness
def describe(raw_item) -> str:
    if raw_item is None:
        return '（无此项）'
    if raw_item['outcome'] == R.AMOUNT:
        return format_money(raw_item['amount'])
    if raw_item['outcome'] == R.CEILING:
        return f'最高可获 {format_money(raw_item["amount"])}'
    if raw_item['outcome'] in (R.NON_CASH, R.DEFERRED) and raw_item.get('detail'):
        return f'{R.OUTCOME_LABELS[raw_item["outcome"]]}（{raw_item["detail"]}）'
    return R.OUTCOME_LABELS[raw_item['outcome']]


def _outcome(raw_item):
    """(outcome, amount, benefit): what an applicant gets from an item; the text of a non-cash
    benefit or of the policy deferred to is part of it."""
    if raw_item is None:
        return (R.NOT_APPLICABLE, None, '')
    amount = raw_item['amount'] if raw_item['outcome'] in (R.AMOUNT, R.CEILING) else None
    benefit = raw_item['detail'] if raw_item['outcome'] in (R.NON_CASH, R.DEFERRED) else ''
    return (raw_item['outcome'], amount, benefit)


def evaluate_both(old, new, facts: dict, date):
    """(old raw, new raw) for facts that both versions accept (missing required inputs filled)."""
    return (old.evaluate_raw(_fill(old, _only(old, facts)), date, False),
            new.evaluate_raw(_fill(new, _only(new, facts)), date, False))


def _only(compiled, facts):
    """The facts this version reads: its inputs, and its lists of records (项目、产品 …)."""
    kinds = compiled.records or {}
    return {k: v for k, v in facts.items() if k in compiled.inputs or k in kinds}


def item_of(raw, name):
    if name is None:
        return None
    return next((x for x in raw['items'] if x['name'] == name), None)


def witness_facts(old, new, facts: dict) -> dict:
    """Facts for a witness file: every input either version requires, and the given ones."""
    full = dict(_fill(new, _only(new, facts)))
    for k, v in _fill(old, _only(old, facts)).items():
        full.setdefault(k, v)
    kinds = set(old.records or {}) | set(new.records or {})
    flat = {k: v for k, v in full.items() if k not in kinds}
    typed = [(c, _typed(c, flat)) for c in (old, new)]
    out = {}
    for k, v in full.items():
        if k not in kinds and all(k not in c.inputs or (c.inputs[k][2] is not None and t.get(k) == c.inputs[k][2])
                                  for c, t in typed):
            continue            # the default in every version that has it: need not be given
        out[k] = _jsonable(v)
    return out


def _jsonable(v):
    """A fact as a JSON facts file writes it (lists of records included)."""
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, Decimal):
        return f'{v:f}'
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


# ------------------------------------------------------------------ branches (tiers) taken
def branch(version: Version, interp: Interpreter, it: Optional[A.Item], facts: dict) -> str:
    if it is None:
        return '（无此项）'
    try:
        for c in it.conditions:
            if not interp.value(c, facts, None):
                return f'条件不满足：{version.text(c)}'
        am = it.amount
        if isinstance(am, A.Tiers):
            for k, t in enumerate(am.tiers):
                if interp.value(t.condition, facts, None):
                    return f'第{k + 1}档（{version.text(t.condition)}）'
            return '否则' if am.otherwise is not None else '各档均不满足'
    except Exception:           # a condition that cannot be evaluated for these facts
        return ''
    return version.text(am)


# the solver's helpers (translation, region description, sampling) are in diff_regions

def _differs(old, new, oname, nname, facts, date) -> Optional[tuple]:
    """(old raw item, new raw item) when the item's outcome differs for these facts, else None."""
    try:
        ra, rb = evaluate_both(old, new, facts, date)
    except R.FactsError:
        return None
    a, b = item_of(ra, oname), item_of(rb, nname)
    return (a, b) if _outcome(a) != _outcome(b) else None


def solve_item(old, new, vo: Version, vn: Version, it, nit, date) -> Optional[ItemDiff]:
    """The solver's answer for one item, or None when the rules are not linear (search instead)."""
    try:
        import z3
    except ImportError:
        return None
    oname = it.name.text if it is not None else None
    nname = nit.name.text if nit is not None else None
    label = nname or oname
    try:
        ta, tb = _DiffZ3(old), _DiffZ3(new, suffix='′')
        K = _Z3.KINDS
        va, ka = ta.item_kind(it) if it is not None else (z3.RealVal(0), z3.IntVal(K['not_applicable']))
        vb, kb = tb.item_kind(nit) if nit is not None else (z3.RealVal(0), z3.IntVal(K['not_applicable']))
        ia, ib = _tier_index(z3, ta, it), _tier_index(z3, tb, nit)
        base = z3.Solver()
        base.set('timeout', 10000)
        base.add(ta.constraints + tb.constraints)
        _link(z3, ta, tb, base)
        money_kind = lambda k: z3.Or(k == K['amount'], k == K['ceiling'])
        differ = z3.Or(ka != kb, z3.And(money_kind(ka), va != vb))
        differ_fen = z3.Or(ka != kb, z3.And(money_kind(ka), z3.Or(va - vb >= _fen(z3), vb - va >= _fen(z3))))
    except (NotLinear, z3.Z3Exception, ValueError, KeyError):
        return None
    interp_o = Interpreter(old.analysis.checked, old.analysis.source)
    interp_n = Interpreter(new.analysis.checked, new.analysis.source)
    result = ItemDiff(label, oname or '', 'same', 'solver')
    s = base
    s.push()
    s.add(differ)
    first = s.check()
    if first == z3.unsat:
        result.complete = True
        return result
    if first != z3.sat:
        return None
    s.pop()
    base_asserts = list(s.assertions())
    s.add(differ_fen)
    rng = random.Random(0)
    while len(result.regions) < MAX_REGIONS:
        r = s.check()
        if r == z3.unsat:
            result.complete = True
            break
        if r != z3.sat:
            break
        m = s.model()
        facts = {**tb.facts_from_model(m), **ta.facts_from_model(m)}
        sig = [ka == m.eval(ka, model_completion=True), kb == m.eval(kb, model_completion=True),
               ia == m.eval(ia, model_completion=True), ib == m.eval(ib, model_completion=True)]
        s.add(z3.Not(z3.And(*sig)))
        got = _differs(old, new, oname, nname, facts, date)
        if got is None:
            continue                # a difference the rounding to the fen removes
        region = z3.And(*(base_asserts + sig + [differ]))
        conds, box = _describe_region(z3, region, ta, tb, m)
        nice = _nice(box, _typed_any(old, new, facts))
        got_nice = _differs(old, new, oname, nname, nice, date)
        if got_nice is not None:
            facts, got = _jsonable_facts(nice, None), got_nice
        reg = Region(conds, branch(vo, interp_o, it, _typed(old, facts)), branch(vn, interp_n, nit, _typed(new, facts)),
                     witness_facts(old, new, facts), describe(got[0]), describe(got[1]),
                     _outcome(got[0])[1], _outcome(got[1])[1])
        chk = z3.Solver()
        chk.set('timeout', 3000)
        chk.add(region, z3.Or(va != m.eval(va, model_completion=True), vb != m.eval(vb, model_completion=True)))
        reg.constant = chk.check() == z3.unsat
        for _ in range(SAMPLES):
            sample = _sample(rng, box, {k: v for k, v in _typed_any(old, new, facts).items()})
            reg.sampled += 1
            if _differs(old, new, oname, nname, sample, date) is not None:
                reg.sampled_differ += 1
        result.regions.append(reg)
    if result.regions:
        result.status = 'differs'
    elif not result.complete:
        return None
    if not result.complete:
        result.note = f'只列出前 {len(result.regions)} 个区域，可能还有其他区域'
    return result


def _fen(z3):
    return z3.RealVal('0.01')


def _typed(compiled, facts):
    try:
        return R.coerce_facts(compiled.inputs, _fill(compiled, _only(compiled, facts)))
    except R.FactsError:
        return {}


def _typed_any(old, new, facts):
    out = _typed(old, facts)
    out.update(_typed(new, facts))
    return out


# ------------------------------------------------------------------ search
def _search(old, new, differs, examples: int):
    """(facts, examples tried) of an applicant for whom ``differs(facts)``, or (None, tried): the
    cases of both versions and their variants first, then hypothesis."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample, Unsatisfiable
    import polc.testing as T
    count = [0]
    for facts in seeds(old, new):
        count[0] += 1
        if differs(facts):
            return facts, count[0]

    def counted(facts):
        count[0] += 1
        return differs(facts)

    cfg = settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
    strategy = st.tuples(T.facts(old, optional=False), T.facts(new, optional=False)).map(
        lambda pair: {**pair[1], **pair[0]})
    try:
        return find(strategy, counted, settings=cfg), count[0]
    except (NoSuchExample, Unsatisfiable):
        return None, count[0]


def search_item(old, new, vo, vn, it, nit, date, examples: int, why: str = '规则不是线性的') -> ItemDiff:
    oname = it.name.text if it is not None else None
    nname = nit.name.text if nit is not None else None
    facts, count = _search(old, new, lambda f: _differs(old, new, oname, nname, f, date) is not None, examples)
    if facts is None:
        return ItemDiff(nname or oname, oname or '', 'same', 'search', examples=count,
                        note=f'搜索 {count} 例未发现不同（{why}，未能证明）')
    return _searched(old, new, vo, vn, it, nit, facts, _differs(old, new, oname, nname, facts, date), count,
                     why)


def _group_view(raw, name, members) -> tuple:
    """What a group decides: the amount paid for each member (after 就高 or the shared cap) and its total."""
    g = next((x for x in raw['groups'] if x['name'] == name), None)
    totals = {x['name']: x['total'] for x in raw['groups']}
    paid = tuple((m, (item_of(raw, m) or {}).get('paid', totals.get(m))) for m in members)
    return paid, (g['total'] if g is not None else None)


def _show_view(view) -> str:
    paid, total = view
    parts = [f'「{m}」{format_money(v)}' for m, v in paid if v]
    return ('、'.join(parts) or '各成员均为 0元') + (f'，组合计 {format_money(total)}' if total is not None else '，无此组')


def group_diffs(old, new, date, examples: int) -> list:
    """Groups (就高, 合计…最高) added, removed or changed: searched for an applicant who is paid
    differently (the group's rules are decided on amounts already computed, so no region)."""
    from polc.compiler.analysis.diff_structure import key
    ga = {g.name.text: g for g in old.policy.groups}
    gb = {g.name.text: g for g in new.policy.groups}
    out = []
    for name in list(ga) + [n for n in gb if n not in ga]:
        a, b = ga.get(name), gb.get(name)
        if a is not None and b is not None and key((a.mode, a.members, a.cap, a.per_record)) == key((b.mode, b.members, b.cap,
                                                                                          b.per_record)):
            continue
        members = sorted({m.text for g in (a, b) if g is not None for m in g.members})

        def views(facts):
            try:
                ra, rb = evaluate_both(old, new, facts, date)
            except R.FactsError:
                return None
            return _group_view(ra, name, members), _group_view(rb, name, members)

        def differs(facts):
            v = views(facts)
            return v is not None and v[0] != v[1]
        facts, count = _search(old, new, differs, examples)
        d = ItemDiff(f'组「{name}」', f'组「{name}」' if a is not None else '', 'same', 'search', examples=count,
                     kind='group')
        if facts is None:
            d.note = f'搜索 {count} 例未发现组的结果不同（未能证明）'
        else:
            va, vb = views(facts)
            d.status = 'differs'
            d.regions.append(Region([], '', '', witness_facts(old, new, facts), _show_view(va), _show_view(vb),
                                    va[1], vb[1]))
            d.note = '组按已算出的各项金额就高或合计封顶：见证由搜索得到，未描述区域'
        out.append(d)
    return out


def _searched(old, new, vo, vn, it, nit, facts, got, count, why) -> ItemDiff:
    result = ItemDiff((nit or it).name.text, it.name.text if it is not None else '', 'differs', 'search',
                      examples=count)
    result.regions.append(Region([], branch(vo, Interpreter(old.analysis.checked, old.analysis.source), it,
                                            _typed(old, facts)),
                                 branch(vn, Interpreter(new.analysis.checked, new.analysis.source), nit,
                                        _typed(new, facts)),
                                 witness_facts(old, new, facts), describe(got[0]), describe(got[1]),
                                 _outcome(got[0])[1], _outcome(got[1])[1]))
    result.note = f'{why}：见证由搜索得到，未描述区域'
    return result


def _case_facts(compiled) -> list:
    from polc.compiler.analysis.cases import case_facts
    out = []
    for case in compiled.policy.cases:
        try:
            out.append(case_facts(case))            # with the case's records (项目、产品 …) listed
        except (TypeError, ValueError):
            continue
    return out


def seeds(old, new):
    """Applicants worth trying first: the cases of both versions, and each with one money input
    scaled up (to reach caps) or moved by a fen (to cross a boundary)."""
    for facts in _case_facts(old) + _case_facts(new):
        yield facts
    for facts in _case_facts(old) + _case_facts(new):
        for k, v in facts.items():
            if isinstance(v, Decimal) and not isinstance(v, bool):
                for w in (v * 2, v * 10, v * 100, v + FEN, v - FEN):
                    if w >= 0:
                        yield {**facts, k: w}


# ------------------------------------------------------------------ validity and entry point
@attrs.define
class ValidityDiff:
    old: str
    new: str
    dates: list                 # (first day, last day, old valid, new valid) where they disagree

    def to_dict(self):
        return {'old': self.old, 'new': self.new,
                'dates': [{'from': None if d == FAR_PAST else d.isoformat(),
                           'to': None if e == FAR_FUTURE else e.isoformat(), 'old_valid': a, 'new_valid': b}
                          for d, e, a, b in self.dates]}


FAR_PAST, FAR_FUTURE = dt.date(1900, 1, 1), dt.date(9999, 12, 31)     # no start / no end


def _period(meta) -> tuple:
    return (meta.get('effective') or meta.get('issued'), meta.get('expiry'))


def _valid(period, d) -> bool:
    s, e = period
    return (s is None or d >= s) and (e is None or d <= e)


def validity_diff(old, new) -> Optional[ValidityDiff]:
    pa, pb = _period(old.meta), _period(new.meta)
    if pa == pb:
        return None
    points = sorted({p + dt.timedelta(days=k) for p in pa + pb if p is not None for k in (-1, 0, 1)}
                    | {FAR_PAST, FAR_FUTURE})
    # validity changes only at these points, so a run of them with the same answers is one period
    dates, run = [], None
    for d in points + [None]:
        st = (_valid(pa, d), _valid(pb, d)) if d is not None else None
        if run is not None and (st != run[2]):
            if run[2][0] != run[2][1]:
                dates.append((run[0], run[1], *run[2]))
            run = None
        if st is not None:
            run = (run[0], d, st) if run is not None else (d, d, st)
    show = lambda p: f'{p[0] or "（未写）"} 至 {p[1] or "（未写）"}'
    return ValidityDiff(show(pa), show(pb), dates) if dates else None


@attrs.define
class Semantic:
    date: dt.date
    items: list
    validity: Optional[ValidityDiff]

    @property
    def differs(self) -> bool:
        return self.validity is not None or any(d.status == 'differs' for d in self.items)

    def to_dict(self):
        return {'date': self.date.isoformat(), 'differs': self.differs,
                'validity': self.validity.to_dict() if self.validity else None,
                'items': [d.to_dict() for d in self.items]}


def semantic_diff(old, new, vo: Version, vn: Version, pairs, examples: int = 300,
                  use_solver: bool = True) -> Semantic:
    date = common_date(old, new)
    items = []
    for _oc, it, _nc, nit in pairs:
        if same_rules(vo, vn, it, nit):
            items.append(ItemDiff(nit.name.text, it.name.text, 'same', 'rules', complete=True))
            continue
        # the solver knows one applicant with one record: where the items are computed per record or
        # under an applicant's cap, a difference it finds stands (its witness is evaluated), but
        # "the same" is not a proof: then the search (with lists of records) decides
        records = any(x is not None and (x.per_record or x.firm_cap is not None) for x in (it, nit))
        d = solve_item(old, new, vo, vn, it, nit, date) if use_solver else None
        if d is not None and d.status == 'same' and records:
            d = None
        if d is not None and d.status == 'same' and benefits(it) != benefits(nit):
            d = None            # the solver compares kinds and amounts, not the benefit's text
        if d is None:
            d = search_item(old, new, vo, vn, it, nit, date, examples,
                            '按记录计算或有每家上限' if records else '规则不是线性的' if use_solver else '未用求解器')
        items.append(d)
    items += group_diffs(old, new, date, examples)
    return Semantic(date, items, validity_diff(old, new))
