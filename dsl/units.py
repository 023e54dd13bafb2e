"""Formatting quantities the way the policy texts write them: 100万元, 29.99万元, 3000元, 30%.

Pure standard library: the code generator copies this module into stand-alone builds.
"""
from __future__ import annotations

from decimal import Context, Decimal, localcontext

__all__ = ['format_money', 'format_percent', 'format_number', 'format_quantity']

_WAN = Decimal(10000)
_YI = Decimal(100000000)
_HUNDRED = Decimal(100)


def _plain(d: Decimal) -> str:
    """Decimal without exponent and without trailing zeros after the point."""
    if not d:
        d = d.copy_abs()            # never "-0"
    if d == d.to_integral_value():
        return f'{d.quantize(Decimal(1)):f}'
    s = f'{d:f}'
    return s.rstrip('0').rstrip('.') if '.' in s else s


def format_money(value: Decimal) -> str:
    """Exact: 1000000 -> 100万元; 299900 -> 29.99万元; 150000000 -> 1.5亿元; 12345.67 -> 12345.67元."""
    v = Decimal(value)
    if v.is_finite():               # exact for any size: enough digits for every step below
        with localcontext(Context(prec=max(v.adjusted(), 0) + 40, Emax=10 ** 6, Emin=-10 ** 6)):
            return _format_money(v)
    return f'{v}元'


def _format_money(v: Decimal) -> str:
    if not v:
        v = v.copy_abs()            # never "-0元"
    a = abs(v)
    if a >= _YI and a % Decimal(1000000) == 0:
        return f'{_plain(v / _YI)}亿元'
    if a >= _WAN and a % _HUNDRED == 0:
        return f'{_plain(v / _WAN)}万元'
    if v == v.to_integral_value():
        return f'{_plain(v)}元'
    return f'{v.quantize(Decimal("0.01")):f}元' if v.as_tuple().exponent >= -2 else f'{_plain(v)}元'


def format_percent(value: Decimal) -> str:
    """Decimal('0.30') -> 30%."""
    return f'{_plain(Decimal(value) * _HUNDRED)}%'


def format_number(value) -> str:
    return _plain(Decimal(value))


def format_quantity(value, type_: str | None) -> str:
    if type_ == 'money':
        return format_money(value)
    if type_ == 'percent':
        return format_percent(value)
    if isinstance(value, Decimal) or isinstance(value, int):
        return format_number(value)
    return str(value)
