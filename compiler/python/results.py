"""Evaluation results as attrs classes with stable field names (see docs/api.md)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Optional

import attrs

from polc.compiler.python.runtime import AMOUNT, CEILING, OUTCOME_LABELS


_FEN = Decimal('0.01')


def _money(v: Optional[Decimal]) -> Optional[str]:
    """Money in JSON: a decimal string in 元 with two places ('80000.00'), never a float."""
    return None if v is None else f'{v.quantize(_FEN):f}'


@attrs.frozen
class RecordResult:
    """One record's part of an item computed per record (每个 项目 / 产品 …)."""
    label: str                  # 产品1「甲」
    outcome: str
    amount: Optional[Decimal]   # as computed for this record
    paid: Optional[Decimal]     # after 就高 per record, the quota and the applicant's cap
    detail: str
    steps: tuple[str, ...]
    notes: tuple[str, ...]
    set_aside: bool

    def to_dict(self) -> dict:
        return {'label': self.label, 'outcome': self.outcome, 'outcome_label': OUTCOME_LABELS.get(self.outcome, ''),
                'amount': _money(self.amount), 'paid': _money(self.paid), 'detail': self.detail,
                'steps': list(self.steps), 'notes': list(self.notes), 'set_aside': self.set_aside}


@attrs.frozen
class ItemResult:
    name: str                   # 项 name
    clause: str                 # clause number as written, e.g. （二）
    title: str                  # clause title
    kind: str                   # benefit kind: 补助 / 奖励 / 算力券 …
    outcome: str                # amount | ceiling | not_applicable | deferred | case_by_case | non_cash | no_amount
    amount: Optional[Decimal]   # computed amount (amount) or upper bound (ceiling), before groups
    paid: Decimal               # what counts towards the totals after 就高 and group caps
    ceiling: Optional[Decimal]  # for ceilings: the upper bound after groups
    detail: str                 # reason when not applicable, the other policy, the non-cash benefit …
    steps: tuple[str, ...]      # the derivation, with numbers filled in
    notes: tuple[str, ...]      # adjustments by groups
    set_aside: bool             # 就高: another item was paid instead
    source: tuple[str, ...]     # 原文
    readings: tuple[str, ...]   # 解读
    lead: tuple[str, ...]       # 牵头单位
    units: tuple[str, ...]      # 责任单位
    quota: Optional[int]
    pool: Optional[Decimal]
    records: Optional[tuple[RecordResult, ...]] = None   # per record, when the facts list records

    label: str = ''             # outcome label in the policy's script ('' : the simplified label)
    unfilled: tuple = ()        # ((input, default as text), …): facts it depends on, not given

    @property
    def outcome_label(self) -> str:
        return self.label or OUTCOME_LABELS.get(self.outcome, self.outcome)

    def to_dict(self) -> dict:
        return {
            'name': self.name, 'clause': self.clause, 'title': self.title, 'kind': self.kind,
            'outcome': self.outcome, 'outcome_label': self.outcome_label,
            'amount': _money(self.amount), 'paid': _money(self.paid),
            'ceiling': _money(self.ceiling), 'detail': self.detail, 'steps': list(self.steps),
            'notes': list(self.notes), 'set_aside': self.set_aside, 'source': list(self.source),
            'readings': list(self.readings), 'lead': list(self.lead), 'units': list(self.units),
            'quota': self.quota, 'pool': _money(self.pool),
            'unfilled': [{'name': n, 'default': d} for n, d in self.unfilled],
        } | ({'records': [r.to_dict() for r in self.records]} if self.records is not None else {})


@attrs.frozen
class GroupResult:
    name: str
    mode: str                   # highest | sum_cap
    members: tuple[str, ...]
    winner: Optional[str]
    set_aside: tuple[str, ...]
    cap: Optional[Decimal]
    before: Optional[Decimal]
    total: Optional[Decimal]
    note: str

    def to_dict(self) -> dict:
        return {'name': self.name, 'mode': self.mode, 'members': list(self.members),
                'winner': self.winner, 'set_aside': list(self.set_aside), 'cap': _money(self.cap),
                'before': _money(self.before), 'total': _money(self.total), 'note': self.note}


@attrs.frozen
class EvalResult:
    policy: str
    date: dt.date
    valid: bool
    validity: str
    items: tuple[ItemResult, ...]
    groups: tuple[GroupResult, ...]
    totals: dict                # benefit kind -> paid amount
    total: Decimal
    ceilings: dict              # benefit kind -> sum of ceilings (最高可获)
    ceiling_total: Decimal
    readings: tuple[str, ...]   # policy-level 解读
    header: dict = attrs.field(factory=dict)   # 文号、发文机关、状态、组合原则、统计起始 … as written
    script: object = attrs.field(default=None, eq=False, repr=False)   # names.Script: polc's words 简/繁

    def words(self, text: str) -> str:
        """polc's own words in the policy's script (the policy's texts kept as written)."""
        return self.script.convert(text) if self.script is not None else text

    def item(self, name: str) -> ItemResult:
        for it in self.items:
            if it.name == name:
                return it
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {
            'policy': self.policy, 'date': self.date.isoformat(), 'valid': self.valid,
            'validity': self.validity, 'items': [i.to_dict() for i in self.items],
            'groups': [g.to_dict() for g in self.groups],
            'totals': {k: _money(v) for k, v in self.totals.items()}, 'total': _money(self.total),
            'ceilings': {k: _money(v) for k, v in self.ceilings.items()},
            'ceiling_total': _money(self.ceiling_total), 'readings': list(self.readings),
            'header': {k: (v.isoformat() if hasattr(v, 'isoformat') else list(v) if isinstance(v, tuple) else v)
                       for k, v in self.header.items()},
        }


_STATIC: dict = {}


def _static(item_table) -> dict:
    """name -> the fields of an item that do not depend on the applicant (clause, title, kind,
    原文, 解读, departments, quota, pool), made once per item table."""
    hit = _STATIC.get(id(item_table))
    if hit is not None and hit[0] is item_table:
        return hit[1]
    static = {info['name']: (info['clause'], info['title'], info['kind'], tuple(info['source']),
                             tuple(info['readings']), tuple(info['lead']), tuple(info['units']), info['quota'],
                             Decimal(info['pool']) if info['pool'] else None)
              for info, _f in item_table}
    if len(_STATIC) > 256:
        _STATIC.clear()
    _STATIC[id(item_table)] = (item_table, static)
    return static


def from_runtime(raw: dict, item_table, readings=(), script=None) -> EvalResult:
    static = _static(item_table)
    items = []
    w = script.convert if script is not None and script.traditional else None
    for r in raw['items']:
        clause, title, kind, source, item_readings, lead, units, quota, pool = static[r['name']]
        detail, steps, notes, label = r['detail'], r['steps'], r['notes'], ''
        if w is not None:
            detail, steps, notes = w(detail), [w(x) for x in steps], [w(x) for x in notes]
            label = w(OUTCOME_LABELS.get(r['outcome'], r['outcome']))
        items.append(ItemResult(
            name=r['name'], clause=clause, title=title, kind=kind,
            outcome=r['outcome'], amount=r['amount'], paid=r['paid'], ceiling=r['ceiling'],
            detail=detail, steps=tuple(steps), notes=tuple(notes), label=label,
            unfilled=tuple(tuple(x) for x in r.get('unfilled', ())),
            set_aside=r['set_aside'], source=source, readings=item_readings,
            lead=lead, units=units, quota=quota, pool=pool,
            records=None if r.get('records') is None else tuple(
                RecordResult(x['label'], x['outcome'], x['amount'], x['paid'], x['detail'], tuple(x['steps']),
                             tuple(x['notes']), x['set_aside']) for x in r['records'])))
    groups = tuple(GroupResult(g['name'], g['mode'], tuple(g['members']), g['winner'],
                               tuple(g['set_aside']), g['cap'], g['before'], g['total'],
                               w(g['note']) if w else g['note'])
                   for g in raw['groups'])
    return EvalResult(raw['policy'], raw['date'], raw['valid'],
                      w(raw['validity']) if w else raw['validity'], tuple(items), groups,
                      dict(raw['totals']), raw['total'], dict(raw['ceilings']), raw['ceiling_total'],
                      tuple(readings), _header_cached(raw.get('meta', {})), script)


_DOC_STATIC: dict = {}


def _doc_static(item_table) -> dict:
    """name -> (clause, title, kind, 原文, 解读, lead, units, quota, pool as in JSON), made once."""
    hit = _DOC_STATIC.get(id(item_table))
    if hit is not None and hit[0] is item_table:
        return hit[1]
    static = {name: (clause, title, kind, source, readings, lead, units, quota, _money(pool))
              for name, (clause, title, kind, source, readings, lead, units, quota, pool)
              in _static(item_table).items()}
    if len(_DOC_STATIC) > 256:
        _DOC_STATIC.clear()
    _DOC_STATIC[id(item_table)] = (item_table, static)
    return static


def document_of(raw: dict, item_table, readings=(), script=None) -> dict:
    """``from_runtime(raw, …).to_dict()`` made directly from the runtime's result, without the
    result objects: the very same document (key for key, in the same order), for ``polc serve``."""
    static = _doc_static(item_table)
    w = script.convert if script is not None and script.traditional else None
    labels = OUTCOME_LABELS
    items = []
    for r in raw['items']:
        clause, title, kind, source, item_readings, lead, units, quota, pool = static[r['name']]
        outcome = r['outcome']
        detail, steps, notes, label = r['detail'], r['steps'], r['notes'], ''
        if w is not None:
            detail, steps, notes = w(detail), [w(x) for x in steps], [w(x) for x in notes]
            label = w(labels.get(outcome, outcome))
        amount, paid, ceiling = r['amount'], r['paid'], r['ceiling']
        doc = {'name': r['name'], 'clause': clause, 'title': title, 'kind': kind, 'outcome': outcome,
               'outcome_label': label or labels.get(outcome, outcome),
               'amount': None if amount is None else f'{amount.quantize(_FEN):f}',
               'paid': None if paid is None else f'{paid.quantize(_FEN):f}',
               'ceiling': None if ceiling is None else f'{ceiling.quantize(_FEN):f}',
               'detail': detail, 'steps': list(steps), 'notes': list(notes), 'set_aside': r['set_aside'],
               'source': list(source), 'readings': list(item_readings), 'lead': list(lead),
               'units': list(units), 'quota': quota, 'pool': pool,
               'unfilled': [{'name': n, 'default': d} for n, d in r.get('unfilled', ())]}
        records = r.get('records')
        if records is not None:
            doc['records'] = [{'label': x['label'], 'outcome': x['outcome'],
                               'outcome_label': labels.get(x['outcome'], ''), 'amount': _money(x['amount']),
                               'paid': _money(x['paid']), 'detail': x['detail'], 'steps': list(x['steps']),
                               'notes': list(x['notes']), 'set_aside': x['set_aside']} for x in records]
        items.append(doc)
    groups = [{'name': g['name'], 'mode': g['mode'], 'members': list(g['members']), 'winner': g['winner'],
               'set_aside': list(g['set_aside']), 'cap': _money(g['cap']), 'before': _money(g['before']),
               'total': _money(g['total']), 'note': w(g['note']) if w else g['note']} for g in raw['groups']]
    return {
        'policy': raw['policy'], 'date': raw['date'].isoformat(), 'valid': raw['valid'],
        'validity': w(raw['validity']) if w else raw['validity'], 'items': items, 'groups': groups,
        'totals': {k: _money(v) for k, v in raw['totals'].items()}, 'total': _money(raw['total']),
        'ceilings': {k: _money(v) for k, v in raw['ceilings'].items()},
        'ceiling_total': _money(raw['ceiling_total']), 'readings': list(readings),
        'header': {k: (v.isoformat() if hasattr(v, 'isoformat') else list(v) if isinstance(v, tuple) else v)
                   for k, v in _header_cached(raw.get('meta', {})).items()},
    }


HEADER_LABELS = {'docno': '文号', 'issuer': '发文机关', 'status': '状态', 'issued': '印发日期',
                 'effective': '施行日期', 'expiry': '有效期至', 'duration': '有效期（年）',
                 'stats_start': '统计起始', 'principle': '组合原则'}


def header_of(meta: dict) -> dict:
    return {k: meta[k] for k in HEADER_LABELS if meta.get(k) is not None}


def _header_cached(meta: dict) -> dict:
    hit = _HEADERS.get(id(meta))
    if hit is None or hit[0] is not meta:
        if len(_HEADERS) > 256:
            _HEADERS.clear()
        hit = _HEADERS[id(meta)] = (meta, header_of(meta))
    return dict(hit[1])


_HEADERS: dict = {}


__all__ = ['RecordResult', 'ItemResult', 'GroupResult', 'EvalResult', 'from_runtime', 'document_of', 'AMOUNT', 'CEILING']
