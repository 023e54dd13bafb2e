"""The runtime's reading of facts: checking and converting an applicant's raw facts against the
declared inputs (money, percentages, whole numbers, yes/no, dates, enumerations), names in either
script (简/繁), and the errors that name each fact.  Part of the runtime (re-exported by
:mod:`polc.compiler.python.runtime`; embedded with it in stand-alone modules)."""
from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import functools as _functools
import re as _re
from decimal import Decimal

from polc.dsl.money import fold, money_of_decimal, parse_integer, parse_money, parse_percent

class Facts(dict):
    """Checked facts, every declared input present; ``unfilled`` names the inputs the applicant
    did not give (their defaults were filled in)."""
    __slots__ = ('unfilled',)


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


# Plain spellings read directly, by the very operations of polc.dsl.money's readers (so the same
# values, digit for digit; tests/test_fast_path.py checks it); anything else goes to the grammar.
_PLAIN_MONEY = _re.compile(r'[0-9]{1,20}(?:\.[0-9]{1,2})?\Z').match          # "1234.5"
_WAN_MONEY = _re.compile(r'([0-9]{1,16}(?:\.[0-9]{1,6})?)万元\Z').match      # "12.5万元": < 10^20 元, whole fen
_PLAIN_PERCENT = _re.compile(r'([+-]?[0-9]{1,7}(?:\.[0-9]{1,8})?)%\Z').match  # "-12.5%": within ±10^6
_FACTS_WAN = 10000


def _coerce_money(value):
    if type(value) is Decimal and value.is_finite() and 0 < value <= _MAX_MONEY \
            and value.as_tuple().exponent >= -2:
        return value                       # the common case, checked in one step
    if type(value) is str:
        if _PLAIN_MONEY(value):
            return Decimal(value)          # a table cell such as "1234.5": exact, in range, to the fen
        m = _WAN_MONEY(value)
        if m:
            return Decimal(m.group(1)) * _FACTS_WAN
        return parse_money(value)          # the one money grammar (polc.dsl.money)
    return money_of_decimal(_decimal_of(value, '金额'), str(value))


def _coerce_percent(value):
    if isinstance(value, str):
        m = _PLAIN_PERCENT(value)
        if m:
            v = Decimal(m.group(1))
            return (v if v else v.copy_abs()).scaleb(-2)
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




def too_large_message(item: str) -> str:
    return f'「{item}」的计算结果超出可精确计算的范围（60 位有效数字），无法给出金额；请核对事实中的数与单位'
