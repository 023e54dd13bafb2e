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
import functools as _functools
import re as _re
from decimal import ROUND_HALF_UP, Decimal

from polc.dsl.units import format_money, format_number, format_percent
from polc.dsl.money import fold, money_of_decimal, parse_integer, parse_money, parse_percent

__all__ = [
    'AMOUNT', 'CEILING', 'NOT_APPLICABLE', 'DEFERRED', 'CASE_BY_CASE', 'NON_CASH', 'NO_AMOUNT',
    'MISSING_FACTS',
    'OUTCOME_LABELS', 'FactsError', 'CONTEXT', 'D', 'fmt', 'fmt_input', 'fmt_money', 'round_fen', 'floor_div',
    'coerce_facts', 'set_fold', 'evaluate_policy', 'parse_date', 'Inapplicable', 'div', 'pick_year',
    'pick_category', 'progressive_level', 'progressive', 'finish_typed', 'validity_bounds',
    'too_large_message',
]

AMOUNT = 'amount'
CEILING = 'ceiling'
NOT_APPLICABLE = 'not_applicable'
DEFERRED = 'deferred'
CASE_BY_CASE = 'case_by_case'
NON_CASH = 'non_cash'
NO_AMOUNT = 'no_amount'
MISSING_FACTS = 'missing_facts'     # strict mode: the conditions rest on facts not given

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


class Facts(dict):
    """Checked facts, every declared input present; ``unfilled`` names the inputs the applicant
    did not give (their defaults were filled in)."""
    __slots__ = ('unfilled',)


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


def progressive_level(base, thresholds):
    """Index of the highest threshold reached (thresholds ascending), or -1."""
    level = -1
    for i, t in enumerate(thresholds):
        if base >= t:
            level = i
    return level


# ------------------------------------------------------------------ facts
class FactsError(ValueError):
    """Bad facts.  ``problems`` is a list of (fact name or '', Chinese message)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__('；'.join(f'{n}：{m}' if n else m for n, m in self.problems))


_DATE_ISO = _re.compile(r'([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})')
_DATE_CN = _re.compile(r'([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日')
_MAX_MONEY = Decimal(10) ** 20          # 1万亿亿元: beyond any real budget


def parse_date(value):
    """'2025-03-01', '2025年3月1日' or a date -> date; None if it cannot be read."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str):
        return None
    return _parse_date_text(value)


@_functools.lru_cache(maxsize=256)
def _parse_date_text(value):
    s = fold(value)
    m = _DATE_ISO.fullmatch(s) or _DATE_CN.fullmatch(s)
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _decimal_of(value, what: str):
    """A finite Decimal from an int, Decimal or numeric string; raises ValueError with a message."""
    if isinstance(value, bool):
        raise ValueError(f'应为{what}，得到的是布尔值')
    if isinstance(value, float):
        raise ValueError(f'{what}不接受浮点数（float），请用整数、Decimal 或字符串，例如 "1000000" 或 "100万元"')
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f'{what}不能是 {value}')
        return value
    raise ValueError(f'应为{what}')


_PLAIN_MONEY = _re.compile(r'[0-9]{1,20}(?:\.[0-9]{1,2})?\Z').match


def _coerce_money(value):
    if type(value) is Decimal and value.is_finite() and 0 < value <= _MAX_MONEY \
            and value.as_tuple().exponent >= -2:
        return value                       # the common case, checked in one step
    if type(value) is str:
        if _PLAIN_MONEY(value):
            return Decimal(value)          # a table cell such as "1234.5": exact, in range, to the fen
        return parse_money(value)          # the one money grammar (polc.dsl.money)
    return money_of_decimal(_decimal_of(value, '金额'), str(value))


def _coerce_percent(value):
    if isinstance(value, str):
        return parse_percent(value)
    v = _decimal_of(value, '百分比')
    if abs(v) > Decimal(10) ** 6:
        raise ValueError(f'百分比超出范围：「{value}」')
    return v.copy_abs() if not v else v


def shown(value) -> str:
    """A fact's value as a message shows it: text quoted as written, a number as plain digits
    (``2.5``, never ``Decimal('2.5')``), true/false as in JSON."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, Decimal):
        # plain digits, except for a huge or tiny exponent (1E+999999 is not printed as a million digits)
        return f'{value:f}' if value.is_finite() and -30 < value.adjusted() < 30 else str(value)
    if isinstance(value, (int, str)):
        return repr(value) if isinstance(value, str) else str(value)
    if value is None:
        return 'null'
    return {dict: '一个对象', list: '一个列表'}.get(type(value), str(value))


def _coerce_int(value):
    if isinstance(value, str):
        return parse_integer(value)
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > 12:
        raise ValueError(f'整数超出范围：{shown(value)}')
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        v = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        v = value
    else:
        raise ValueError(f'应为整数，得到 {shown(value)}')
    if abs(v) > 10 ** 12:
        raise ValueError(f'整数超出范围（绝对值不超过 10^12）：「{v}」')
    return v


_BOOL_TEXT = {'是': True, 'true': True, 'True': True, '真': True, '否': False, 'false': False, 'False': False,
              '假': False}


def _coerce_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = _BOOL_TEXT.get(value)
        if word is None:
            word = _BOOL_TEXT.get(value.strip())
        if word is not None:
            return word
    raise ValueError(f'应为是否（true/false 或 "是"/"否"），得到 {shown(value)}')


def _coerce_date(value):
    d = parse_date(value)
    if d is None:
        raise ValueError(f'应为日期（如 "2025-03-01"），得到 {shown(value)}')
    return d


_COERCE = {'money': _coerce_money, 'percent': _coerce_percent, 'int': _coerce_int,
           'bool': _coerce_bool, 'date': _coerce_date}


_PLANS: dict = {}


def _plan(inputs):
    """(inputs, their names, (name, kind, values, default, converter) per input), made once per
    inputs table (keyed by identity, the table kept alive by the plan)."""
    plan = _PLANS.get(id(inputs))
    if plan is None or plan[0] is not inputs:
        steps = tuple((name, kind, values, default, _COERCE.get(kind))
                      for name, (kind, values, default, _desc) in inputs.items())
        plan = (inputs, frozenset(inputs), steps)
        if len(_PLANS) > 256:
            _PLANS.clear()
        _PLANS[id(inputs)] = plan
    return plan


# Folding of simplified/traditional spellings: set by polc's loader to OpenCC's t2s
# (polc.dsl.script.fold); None in a stand-alone module, which has only the alias tables.
_FOLD = None


def set_fold(fn) -> None:
    global _FOLD
    _FOLD = fn


def _declared(key, names, aliases):
    """The declared spelling of a fact name or enumeration value, or None."""
    if key in names:
        return key
    if not isinstance(key, str):
        return None
    found = aliases.get(key) if aliases else None
    if found is None and _FOLD is not None:
        folded = _FOLD(key)
        found = folded if folded in names else (aliases.get(folded) if aliases else None)
    return found


def coerce_facts(inputs, facts, aliases=None, value_aliases=None, given_out=None):
    """Check and convert raw facts against the declared inputs.

    ``inputs`` maps name -> (kind, enum values, default or None, description).  A fact or an
    enumeration value spelt in the other script (简/繁) is found under its declared spelling
    (``aliases``: spelling -> declared name; ``value_aliases``: input -> spelling -> value).
    Returns a new dict with every declared input (defaults filled in); ``given_out`` (a set), if
    passed, receives the declared names the facts gave.  Raises :class:`FactsError` listing every
    problem, each naming its fact.
    """
    if not isinstance(facts, dict):
        raise FactsError([('', f'事实应为一个对象（名称到值的映射），得到 {type(facts).__name__}')])
    _inputs, names, steps = _plan(inputs)
    problems = []
    out = Facts()
    out.unfilled = unfilled = []
    given = {}
    if not names.issuperset(facts):
        for name in facts:
            declared = _declared(name, inputs, aliases)
            if declared is None:
                problems.append((str(name), '未声明的输入（政策中没有这一项）'))
            elif declared in given:
                problems.append((str(name), f'与「{given[declared]}」是同一输入（简繁写法不同），只能给出一次'))
            else:
                given[declared] = name
    else:
        given = None                        # every fact under its declared name (the common case)
    get = facts.get
    for name, kind, values, default, convert in steps:
        raw = get(given.get(name, name) if given else name)
        if raw is None:
            if default is None:
                problems.append((name, '缺少必填输入'))
            else:
                out[name] = default
                unfilled.append(name)
            continue
        try:
            if convert is None:
                value = _declared(raw, values, (value_aliases or {}).get(name)) \
                    if isinstance(raw, str) else None
                if value is None:
                    raise ValueError(f'应为以下之一：{"、".join(values)}，得到 {shown(raw)}')
                out[name] = value
            else:
                out[name] = convert(raw)
        except ValueError as exc:
            problems.append((name, str(exc)))
        except (_decimal.InvalidOperation, ArithmeticError):
            problems.append((name, f'无法读取的数：{shown(raw)}'))
    if problems:
        raise FactsError(problems)
    if given_out is not None:
        pairs = given.items() if given is not None else ((n, n) for n in facts)
        given_out.update(n for n, k in pairs if facts[k] is not None)
    return out


# ------------------------------------------------------------------ evaluation
_VALIDITY: dict = {}


def too_large_message(item: str) -> str:
    return f'「{item}」的计算结果超出可精确计算的范围（60 位有效数字），无法给出金额；请核对事实中的数与单位'


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
        if g['mode'] == 'highest':
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


def evaluate_policy(meta, inputs, item_table, groups_meta, facts, date=None, explain=True, strict=False):
    """Evaluate one applicant.  Returns a plain dict (Decimal amounts); see polc.compiler.python.results.

    Every item lists the facts it depends on that were not given (``unfilled``: taken at their
    defaults).  ``strict``: an item whose conditions rest on an unfilled fact is not computed
    (outcome ``missing_facts``)."""
    with _decimal.localcontext(CONTEXT):      # exact to the end, totals included
        return _evaluate_policy(meta, inputs, item_table, groups_meta, facts, date, explain, strict)


def _evaluate_policy(meta, inputs, item_table, groups_meta, facts, date, explain, strict):
    if date is None:
        date = _dt.date.today()
    else:
        d = parse_date(date)
        if d is None:
            raise FactsError([('日期', f'无法读作日期：{shown(date)}（应为 "2025-03-01"）')])
        date = d
    given: set = set()
    values = coerce_facts(inputs, facts, meta.get('input_aliases'), meta.get('value_aliases'), given)
    deps = meta.get('item_inputs') or {}
    valid, validity_note, start, end = _validity(meta, date)
    items = {}
    order = []
    with _decimal.localcontext(CONTEXT):
        for info, func in item_table:
            name = info['name']
            order.append(name)
            cond_deps, all_deps = deps.get(name, ((), ()))
            unfilled = _unfilled(inputs, all_deps, given) if valid else []
            missing = _unfilled(inputs, cond_deps, given) if strict and valid else []
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
            items[name] = {
                'name': name, 'outcome': outcome, 'amount': amount, 'steps': steps or [],
                'detail': detail, 'set_aside': False, 'paid': None, 'notes': [], 'unfilled': unfilled,
            }
        groups = _apply_groups(groups_meta, items, explain) if valid else []
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
        'items': [items[n] for n in order], 'groups': groups, 'totals': totals, 'total': total,
        'ceilings': ceilings, 'ceiling_total': ceiling_total, 'facts': values,
    }
