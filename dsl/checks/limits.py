"""Checks that what the header and the constants imply can be represented by every back end:
the dates validity implies (施行日期 or 印发日期 plus 有效期 years) stay within 9999-12-31, money
constants within 10^40 元 (times a whole-number fact, at most 10^12, or a percentage, at most 10^6,
still well inside the runtime's 60 exact digits), and the largest amount a step rule (每 / 每满)
can give on facts within their bound (10^20 元, polc.dsl.money) stays below 10^36 元 (SQL's
DECIMAL(38, 2)).  The runtime still refuses, with a message, an amount beyond its 60 digits.
A policy that passes them cannot make eval, sql, verify or a built module fail on a date or a
number too large to hold.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Context, Decimal, localcontext

from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic, error
from polc.dsl.money import MONEY_MAX
from polc.dsl.symbols import Symbols
from polc.dsl.checks.typecheck import const_value

__all__ = ['check_limits', 'validity_end', 'AMOUNT_MAX']

AMOUNT_MAX = Decimal(10) ** 36          # DECIMAL(38, 2) holds less than this
CONSTANT_MAX = Decimal(10) ** 40


def validity_end(start: _dt.date, years: int) -> _dt.date:
    """The last day of ``years`` of validity from ``start`` (the runtime's rule); raises
    OverflowError past 9999-12-31."""
    if start.year + years > _dt.MAXYEAR:
        raise OverflowError(start.year + years)
    try:
        return start.replace(year=start.year + years) - _dt.timedelta(days=1)
    except ValueError:                   # 29 February
        return start.replace(year=start.year + years, day=28)


def check_limits(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    return _dates(p) + _constants(p)


def _dates(p: A.Policy) -> list[Diagnostic]:
    fields = {f.key: f for f in p.header}
    duration = fields.get('duration')
    if duration is None or not isinstance(duration.value, int) or duration.value <= 0:
        return []
    start = fields.get('effective') or fields.get('issued')
    if start is None or not isinstance(start.value, _dt.date):
        return []
    label = '施行日期' if 'effective' in fields else '印发日期'
    try:
        validity_end(start.value, duration.value)
    except OverflowError:
        return [error('E-DATE-RANGE', f'有效期的截止日超出可表示的日期范围：{label} {start.value.isoformat()} '
                                      f'加 {duration.value} 年晚于 9999-12-31', duration.span,
                      '请核对施行日期与有效期年数')]
    return []


def _constants(p: A.Policy) -> list[Diagnostic]:
    out = []
    with localcontext(Context(prec=200, Emax=10 ** 6, Emin=-10 ** 6)):
        for node in A.walk(p):
            if isinstance(node, A.Money) and abs(node.value) > CONSTANT_MAX:
                out.append(error('E-CONST-RANGE', f'金额常数 {node.text} 超出可处理的范围（上限 10^40 元）',
                                 node.span))
            elif isinstance(node, A.PerStep):
                step, award = const_value(node.step), const_value(node.award)
                if step is None or award is None or step <= 0:
                    continue
                most = MONEY_MAX / step * abs(award)
                if most >= AMOUNT_MAX:
                    out.append(error(
                        'E-CONST-RANGE',
                        f'每步金额与步长之比过大：基数达到 10^20 元时本项可达 {most:.3E} 元，'
                        f'超出可表示的范围（10^36 元，即 SQL 的 DECIMAL(38, 2)）', node.span,
                        '请核对步长与每步金额的单位（如 1000万元 写成了 0.01元）'))
    return out
