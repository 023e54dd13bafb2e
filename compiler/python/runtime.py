"""Runtime helpers for compiled policies.

Generated code calls only what ``__all__`` lists.  Standard library only (plus the
formatting helpers of :mod:`polc.dsl.units`), so that ``polc build`` can copy this
module into a stand-alone file.

Values at run time: money is ``Decimal`` in 元, a percentage is a ``Decimal``
fraction (30% -> 0.30), an integer is ``int``, a boolean ``bool``, a date
``datetime.date``, an enumeration value ``str``.  Never ``float``.
"""
from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from decimal import ROUND_HALF_UP, Decimal

from polc.dsl.units import format_money, format_number, format_percent
from polc.compiler.python.runtime_facts import (Facts, FactsError, _BOOL_TEXT, _coerce_money, _declared,  # noqa: F401
                                                coerce_facts, parse_date, set_fold, shown, too_large_message)

__all__ = [
    'AMOUNT', 'CEILING', 'NOT_APPLICABLE', 'DEFERRED', 'CASE_BY_CASE', 'NON_CASH', 'NO_AMOUNT',
    'MISSING_FACTS',
    'OUTCOME_LABELS', 'FactsError', 'CONTEXT', 'D', 'fmt', 'fmt_input', 'fmt_money', 'round_fen', 'floor_div',
    'coerce_facts', 'set_fold', 'evaluate_policy', 'parse_date', 'Inapplicable', 'div', 'pick_year',
    'pick_category', 'progressive_level', 'progressive', 'progressive_award', 'finish_typed', 'validity_bounds',
    'evaluation_date', 'run_item', 'finish_evaluation', 'too_large_message', 'compared', 'ranged',
    'unfilled_note',
]

AMOUNT = 'amount'
CEILING = 'ceiling'
NOT_APPLICABLE = 'not_applicable'
DEFERRED = 'deferred'
CASE_BY_CASE = 'case_by_case'
NON_CASH = 'non_cash'
NO_AMOUNT = 'no_amount'
MISSING_FACTS = 'missing_facts'     # strict mode: the conditions rest on facts not given
# each outcome's number: inside the SQL query, and in the compact layout of a results table
# (`polc eval --compact`; docs/commands/eval.md lists them)
OUTCOME_CODES = {NOT_APPLICABLE: 0, AMOUNT: 1, CEILING: 2, DEFERRED: 3, CASE_BY_CASE: 4, NON_CASH: 5,
                 NO_AMOUNT: 6}

OUTCOME_LABELS = {
    AMOUNT: '金额', CEILING: '最高可获', NOT_APPLICABLE: '不适用', DEFERRED: '按规定享受其他政策',
    CASE_BY_CASE: '一事一议', NON_CASH: '非现金待遇', NO_AMOUNT: '本措施未设金额',
    MISSING_FACTS: '缺少事实',
}

# Exact decimal arithmetic: 60 significant digits, and every irregularity an error.
CONTEXT = _decimal.Context(prec=60, rounding=_decimal.ROUND_HALF_EVEN, Emin=-999999, Emax=999999,
                           traps=[_decimal.InvalidOperation, _decimal.DivisionByZero,
                                  _decimal.Overflow])
_FEN = Decimal('0.01')
D = Decimal
fmt_money = format_money


def fmt(value, type_: str) -> str:
    """Format a run-time value of a given type for an explanation."""
    if type_ == 'money':
        return format_money(value)
    if type_ == 'percent':
        return format_percent(value)
    if type_ == 'bool':
        return '是' if value else '否'
    if type_ in ('int', 'number'):
        return format_number(value)
    return str(value)


def fmt_input(facts, name: str, value, type_: str) -> str:
    """An input in an explanation: 「成交额 200万元」, or 「成交额 未填（按 0元 计）」 when the applicant did
    not give it and its default applies (``facts`` is what :func:`coerce_facts` returned)."""
    if name in getattr(facts, 'unfilled', ()):
        return f'{name} 未填（按 {fmt(value, type_)} 计）'
    return f'{name} {fmt(value, type_)}'


_SYMBOL = {'>=': '≥', '<=': '≤', '>': '>', '<': '<', '==': '=', '!=': '≠'}
_NEGATED = {'>=': '<', '<=': '>', '>': '≤', '<': '≥', '==': '≠', '!=': '='}
_HOLDS = {'>=': lambda a, b: a >= b, '<=': lambda a, b: a <= b, '>': lambda a, b: a > b,
          '<': lambda a, b: a < b, '==': lambda a, b: a == b, '!=': lambda a, b: a != b}


def compared(met: bool, left, op: str, right, left_type: str, right_type: str) -> str:
    """A comparison's values: 「21.5% ≥ 12%」 when it holds, 「8% < 12%」 (the operator negated) when
    it does not."""
    return f'{fmt(left, left_type)} {(_SYMBOL if met else _NEGATED)[op]} {fmt(right, right_type)}'


def ranged(met: bool, value, low, low_op, high, high_op, type_: str) -> str:
    """A range's values (``x 在 a 至 b``; ``low_op``/``high_op`` '>=', '>', '<=', '<' or None for an
    open side): 「20 ≤ 25 < 30」 when it holds, else the bound it misses, 「19 < 20」."""
    if met:
        if low_op is not None and high_op is not None:
            return (f'{fmt(low, type_)} {_SYMBOL[low_op.replace(">", "<")]} {fmt(value, type_)} '
                    f'{_SYMBOL[high_op]} {fmt(high, type_)}')
        return compared(True, value, low_op or high_op, low if low_op else high, type_, type_)
    if low_op is not None and not _HOLDS[low_op](value, low):
        return compared(False, value, low_op, low, type_, type_)
    return compared(False, value, high_op, high, type_, type_)


def unfilled_note(facts, read) -> str:
    """「（年销售额 未填，按 0元 计）」 for the inputs in ``read`` ((name, value, type), …) that the
    applicant did not give; '' when every one was given."""
    unfilled = getattr(facts, 'unfilled', ())
    parts = [f'{n} 未填，按 {fmt(v, t)} 计' for n, v, t in read if n in unfilled]
    return '（' + '；'.join(parts) + '）' if parts else ''


_ZERO_FEN = Decimal('0.00')


def round_fen(value: Decimal) -> Decimal:
    """Round to 0.01 元, half up (the rounding rule of every clause amount); never -0.00."""
    r = value.quantize(_FEN, rounding=ROUND_HALF_UP)
    return r if r or not r.is_signed() else _ZERO_FEN


def floor_div(a: Decimal, b: Decimal) -> Decimal:
    """Whole steps of ``b`` in ``a`` (a ≥ 0)."""
    return (Decimal(a) // Decimal(b)).to_integral_value(rounding=_decimal.ROUND_FLOOR)


class Inapplicable(Exception):
    """Raised by generated code when a value cannot be computed for this applicant
    (a year outside a schedule, a category without an award, a division by zero)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def div(a, b):
    if b == 0:
        raise Inapplicable('除数为零，无法计算')
    return a / b


def pick_year(year, table, labels):
    """The value for ``year`` from a schedule {year: value}."""
    if year in table:
        return table[year]
    raise Inapplicable(f'第{year}年不在补助期内（{labels}）')


def pick_category(value, table):
    if value in table:
        return table[value]
    raise Inapplicable(f'「{value}」不在本项所列类别（{"、".join(table)}）之内')


def progressive(base, thresholds, awards, received):
    """晋级补差 as one expression: the award of the highest threshold reached minus what was
    received (not below 0); not applicable below the lowest threshold."""
    level = progressive_level(base, thresholds)
    if level < 0:
        raise Inapplicable(f'未达到最低门槛 {format_money(thresholds[0])}')
    award = awards[level] - received
    return award if award > 0 else Decimal(0)


class _BelowLowest(Inapplicable):
    """Inapplicable below the lowest threshold of 晋级补差; the reason is written only when read
    (the typed path never reads it)."""

    def __init__(self, lowest):
        Exception.__init__(self, lowest)
        self.lowest = lowest

    @property
    def reason(self) -> str:
        return f'未达到最低门槛 {format_money(self.lowest)}'

    def __str__(self) -> str:
        return self.reason


def progressive_award(award, received, lowest):
    """:func:`progressive` once the award of the threshold reached is known (None: none reached)."""
    if award is None:
        raise _BelowLowest(lowest)
    award = award - received
    return award if award > 0 else Decimal(0)


def progressive_level(base, thresholds):
    """Index of the highest threshold reached (thresholds ascending), or -1."""
    level = -1
    for i, t in enumerate(thresholds):
        if base >= t:
            level = i
    return level


# ------------------------------------------------------------------ facts
_VALIDITY: dict = {}


def _validity(meta, date):
    """(valid, note, first day, last day) for an evaluation date (remembered per policy and day)."""
    key = (id(meta), date)
    hit = _VALIDITY.get(key)
    if hit is not None and hit[0] is meta:
        return hit[1]
    result = _validity_of(meta, date)
    if len(_VALIDITY) > 4096:
        _VALIDITY.clear()
    _VALIDITY[key] = (meta, result)
    return result


def _validity_of(meta, date):
    start = meta.get('effective') or meta.get('issued')
    end = meta.get('expiry')
    if end is None and meta.get('duration') and start is not None:
        years = meta['duration']
        if start.year + years > _dt.MAXYEAR:     # polc check refuses it (E-DATE-RANGE)
            end = _dt.date.max
        else:
            try:
                end = start.replace(year=start.year + years) - _dt.timedelta(days=1)
            except ValueError:     # 29 February
                end = start.replace(year=start.year + years, day=28)
    span = f'{start.isoformat() if start else "（未注明）"}至{end.isoformat() if end else "（未注明）"}'
    if start is not None and date < start:
        return False, f'评估日期 {date.isoformat()} 早于施行日期，不在有效期（{span}）内', start, end
    if end is not None and date > end:
        return False, f'评估日期 {date.isoformat()} 晚于有效期截止日，不在有效期（{span}）内', start, end
    if start is None and end is None:
        return True, '政策未注明施行日期与有效期，未检查有效期', start, end
    if start is None or end is None:
        return True, f'有效期{span}；有一端未注明，只检查了已注明的一端', start, end
    return True, f'评估日期 {date.isoformat()} 在有效期（{span}）内', start, end


def _value_of(name, items, groups, group_total):
    """The value an item or group contributes to its group (0 unless an amount or ceiling)."""
    if name in items:
        r = items[name]
        if r['outcome'] not in (AMOUNT, CEILING) or r['amount'] is None or r['set_aside']:
            return Decimal(0)
        return r['paid'] if r['paid'] is not None else r['amount']
    return group_total.get(name, Decimal(0))


def _reduce(name, new_value, items, groups, group_total, note):
    """Lower the paid value of an item or group to ``new_value`` (``note`` None: no notes)."""
    if name in items:
        r = items[name]
        old = r['amount']
        r['paid'] = new_value
        if note is not None:
            r['notes'].append(f'{note}：本项由 {format_money(old)} 调整为 {format_money(new_value)}')
        return
    g = groups[name]
    group_total[name] = new_value
    remaining = new_value
    for m in g['members']:
        v = _value_of(m, items, groups, group_total)
        take = min(v, remaining)
        if take != v:
            _reduce(m, take, items, groups, group_total, note)
        remaining -= take


def _apply_groups(groups_meta, items, explain=True):
    """就高 and 合计…最高 over items (dicts with outcome, amount, paid, set_aside, notes).
    Notes are written only when ``explain``; amounts are the same either way."""
    groups = {g['name']: g for g in groups_meta}
    group_total: dict = {}
    results = []
    for g in groups_meta:                       # inner groups come first
        name = g['name']
        values = [(m, _value_of(m, items, groups, group_total)) for m in g['members']]
        res = {'name': name, 'mode': g['mode'], 'members': list(g['members']), 'winner': None,
               'set_aside': [], 'cap': g.get('cap'), 'before': None, 'total': None, 'note': ''}
        if g.get('per_record'):
            # 就高 per record was applied record by record (runtime_records); what is left of the
            # members is the group's total, lowered by outer groups member by member
            group_total[name] = res['before'] = res['total'] = sum((v for _m, v in values), Decimal(0))
        elif g['mode'] == 'highest':
            candidates = [(m, v) for m, v in values if v > 0]
            if candidates:
                winner, best = max(candidates, key=lambda mv: mv[1])     # first of equals wins
                res['winner'] = winner
                for m, v in candidates:
                    if m != winner:
                        res['set_aside'].append(m)
                        _set_aside(m, winner, items, groups, group_total, explain)
                group_total[name] = best
                if explain:
                    res['note'] = f'就高不重复：按「{winner}」{format_money(best)}执行'
                    if res['set_aside']:
                        res['note'] += '，' + '、'.join(f'「{m}」' for m in res['set_aside']) + '不重复享受'
            else:
                group_total[name] = Decimal(0)
                if explain:
                    res['note'] = '组内没有可获金额的项'
            res['before'] = res['total'] = group_total[name]
        else:
            total = sum((v for _m, v in values), Decimal(0))
            res['before'] = total
            cap = g['cap']
            if total > cap:
                note = f'组「{name}」合计 {format_money(total)} 超过上限 {format_money(cap)}' \
                    if explain else None
                remaining = cap
                for m, v in values:
                    take = min(v, remaining)
                    if take != v:
                        _reduce(m, take, items, groups, group_total, note)
                    remaining -= take
                group_total[name] = cap
                if explain:
                    res['note'] = note + f'，按 {format_money(cap)} 计（按书写顺序先满足前面的项）'
            else:
                group_total[name] = total
                if explain:
                    res['note'] = f'组「{name}」合计 {format_money(total)}，未超过上限 {format_money(cap)}'
            res['total'] = group_total[name]
        results.append(res)
    for res in results:                 # an outer group may have lowered an inner group's total
        res['total'] = group_total[res['name']]
    return results


def _set_aside(name, winner, items, groups, group_total, explain=True):
    if name in items:
        r = items[name]
        r['set_aside'] = True
        r['paid'] = Decimal(0)
        if explain:
            r['notes'].append(f'就高不重复：已按「{winner}」执行，本项不重复享受')
        return
    group_total[name] = Decimal(0)
    for m in groups[name]['members']:
        _set_aside(m, winner, items, groups, group_total, explain)


def validity_bounds(meta):
    """(first day, last day) of validity, either None when not stated."""
    _v, _note, start, end = _validity(meta, _dt.date(2000, 1, 1))
    return start, end


def finish_typed(outcomes, amounts, names, groups_meta):
    """The end of the typed fast path: groups, then {item: (outcome, value)} and the total paid.
    ``value`` is the paid amount of an amount, the (adjusted) bound of a ceiling, else None."""
    if groups_meta:
        items = {n: {'outcome': o, 'amount': a, 'paid': None, 'set_aside': False, 'notes': None}
                 for n, o, a in zip(names, outcomes, amounts)}
        _apply_groups(groups_meta, items, False)
        amounts = [items[n]['paid'] if items[n]['paid'] is not None else
                   (Decimal(0) if items[n]['set_aside'] else items[n]['amount']) for n in names]
    out = {}
    total = Decimal(0)
    for n, o, a in zip(names, outcomes, amounts):
        if o == AMOUNT:
            total += a
            out[n] = (o, a)
        elif o == CEILING:
            out[n] = (o, a)
        else:
            out[n] = (o, None)
    return out, total


def _unfilled(inputs, names, given):
    """[(input, its default as text)] for the inputs among ``names`` the applicant did not fill in."""
    return [(n, fmt(inputs[n][2], inputs[n][0])) for n in names if n not in given and n in inputs]


def evaluation_date(date):
    if date is None:
        return _dt.date.today()
    d = parse_date(date)
    if d is None:
        raise FactsError([('日期', f'无法读作日期：{shown(date)}（应为 "2025-03-01"）')])
    return d


def run_item(name, func, values, explain, valid, validity_note, missing=(), unfilled=()):
    """One item on one set of facts: the result dict (amount rounded to the fen, never below 0).
    ``missing``: unfilled facts its conditions rest on (strict mode: not computed); ``unfilled``:
    every unfilled fact it depends on, listed in the result."""
    if not valid:
        outcome, amount, steps, detail = NOT_APPLICABLE, None, [], validity_note
    elif missing:
        outcome, amount, steps = MISSING_FACTS, None, []
        detail = ('条件依赖未填的事实：' + '、'.join(f'「{n}」' for n, _d in missing)
                  + '；严格模式下不按默认值计算，请填写后再算')
    else:
        try:
            outcome, amount, steps, detail = func(values, explain)
        except Inapplicable as exc:
            outcome, amount, steps, detail = NOT_APPLICABLE, None, [], exc.reason
        except ArithmeticError:
            raise FactsError([('', too_large_message(name))]) from None
    if amount is not None:
        try:
            rounded = round_fen(amount)
        except ArithmeticError:
            raise FactsError([('', too_large_message(name))]) from None
        if rounded != amount and steps is not None:
            steps.append(f'按分四舍五入：{amount} 元 → {format_money(rounded)}')
        amount = rounded
        if amount < 0:
            if steps is not None:
                steps.append(f'计算结果 {format_money(amount)} 为负，按 0元 计')
            amount = Decimal(0)
    return {'name': name, 'outcome': outcome, 'amount': amount, 'steps': steps or [],
            'detail': detail, 'set_aside': False, 'paid': None, 'notes': [], 'unfilled': list(unfilled)}


def finish_evaluation(meta, item_table, items, groups, date, valid, validity_note, values):
    """Totals per kind, paid amounts and ceilings: the result dict of an evaluation."""
    totals: dict = {}
    ceilings: dict = {}
    total = Decimal(0)
    ceiling_total = Decimal(0)
    for info, _f in item_table:
        r = items[info['name']]
        effective = r['paid'] if r['paid'] is not None else (r['amount'] or Decimal(0))
        r['paid'] = Decimal(0)
        r['ceiling'] = None
        if r['outcome'] == AMOUNT:
            r['paid'] = effective
            totals[info['kind']] = totals.get(info['kind'], Decimal(0)) + effective
            total += effective
        elif r['outcome'] == CEILING:
            r['ceiling'] = effective
            ceilings[info['kind']] = ceilings.get(info['kind'], Decimal(0)) + effective
            ceiling_total += effective
    return {
        'policy': meta.get('name', ''), 'meta': meta, 'date': date, 'valid': valid,
        'validity': validity_note,
        'items': [items[info['name']] for info, _f in item_table], 'groups': groups, 'totals': totals,
        'total': total, 'ceilings': ceilings, 'ceiling_total': ceiling_total, 'facts': values,
    }


def evaluate_policy(meta, inputs, item_table, groups_meta, facts, date=None, explain=True, strict=False):
    """Evaluate one applicant.  Returns a plain dict (Decimal amounts); see polc.compiler.python.results.

    Every item lists the facts it depends on that were not given (``unfilled``: taken at their
    defaults).  ``strict``: an item whose conditions rest on an unfilled fact is not computed
    (outcome ``missing_facts``)."""
    with _decimal.localcontext(CONTEXT):      # exact to the end, totals included
        return _evaluate_policy(meta, inputs, item_table, groups_meta, facts, date, explain, strict)


def _evaluate_policy(meta, inputs, item_table, groups_meta, facts, date, explain, strict):
    date = evaluation_date(date)
    given: set = set()
    values = coerce_facts(inputs, facts, meta.get('input_aliases'), meta.get('value_aliases'), given)
    deps = meta.get('item_inputs') or {}
    valid, validity_note, start, end = _validity(meta, date)
    items = {}
    with _decimal.localcontext(CONTEXT):
        for info, func in item_table:
            name = info['name']
            cond_deps, all_deps = deps.get(name, ((), ()))
            unfilled = _unfilled(inputs, all_deps, given) if valid else []
            missing = _unfilled(inputs, cond_deps, given) if strict and valid else []
            items[name] = run_item(name, func, values, explain, valid, validity_note, missing, unfilled)
        groups = _apply_groups(groups_meta, items, explain) if valid else []
    return finish_evaluation(meta, item_table, items, groups, date, valid, validity_note, values)
