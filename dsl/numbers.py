"""Reading numbers as written in policy texts: 100万元, 1.5亿元, 30%, 第三年, （十二）."""
from __future__ import annotations

import re
from decimal import Decimal

UNIT_FACTORS = {'万': Decimal(10000), '萬': Decimal(10000), '亿': Decimal(100000000),
                '億': Decimal(100000000), '千': Decimal(1000)}

_MONEY_RE = re.compile(r'^(\d+(?:\.\d+)?)\s*(万|萬|亿|億)?\s*元?$')

CN_DIGITS = {'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '兩': 2, '三': 3, '四': 4, '五': 5,
             '六': 6, '七': 7, '八': 8, '九': 9}


def money_value(text: str) -> Decimal:
    """'100万元' -> Decimal('1000000'); '3000元' -> Decimal('3000')."""
    m = _MONEY_RE.match(text.strip())
    if not m:
        raise ValueError(text)
    value = Decimal(m.group(1))
    if m.group(2):
        value *= UNIT_FACTORS[m.group(2)]
    return value


def unit_number_value(text: str) -> Decimal:
    """'10亿' -> Decimal('1000000000')."""
    return money_value(text)


def percent_value(text: str) -> Decimal:
    """'30%' -> Decimal('0.30') (exact: the digits are kept, the point moves two places)."""
    return Decimal(text.rstrip('%')).scaleb(-2)


def chinese_int(text: str) -> int | None:
    """Chinese numerals up to 9999: 三 -> 3, 十二 -> 12, 二十 -> 20, 一百 -> 100."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    units = {'十': 10, '百': 100, '千': 1000}
    for ch in text:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        elif ch in units:
            total += (current or 1) * units[ch]
            current = 0
        else:
            return None
    return total + current


_YEAR_ONE = re.compile(r'^第(.+)年$')
_YEAR_FIRST_N = re.compile(r'^前(.+)年$')


def schedule_years(label: str) -> tuple[int, ...] | None:
    """第一年 -> (1,); 前三年 -> (1, 2, 3); anything else -> None."""
    m = _YEAR_ONE.match(label)
    if m:
        n = chinese_int(m.group(1))
        return (n,) if n else None
    m = _YEAR_FIRST_N.match(label)
    if m:
        n = chinese_int(m.group(1))
        return tuple(range(1, n + 1)) if n else None
    return None


_CN_NUM = '零〇一二两兩三四五六七八九十百千'
_TEXT_NUMBER = re.compile(
    r'(\d+(?:\.\d+)?|[' + _CN_NUM + r']+)\s*(%|万|萬|亿|億)?')


def numbers_in_text(text: str) -> set[Decimal]:
    """Every quantity a policy sentence writes: 30万元 -> 300000 (and 30), 30% -> 0.30 (and 30),
    十亿 -> 1000000000, 第三年 -> 3.  Whitespace and full-width forms are normalised first."""
    from .text import normalize
    s = ''.join(normalize(text).split())
    out: set[Decimal] = set()
    for m in _TEXT_NUMBER.finditer(s):
        digits, unit = m.group(1), m.group(2)
        if digits[0].isdigit():
            v = Decimal(digits)
        else:
            n = chinese_int(digits.replace('兩', '两').replace('两', '二'))
            if n is None:
                continue
            v = Decimal(n)
        out.add(v)
        if unit == '%':
            out.add(v.scaleb(-2))
        elif unit:
            out.add(v * UNIT_FACTORS[unit])
    # a ratio 1:1 or 1:0.5 (按1:0.5配套) is the fraction b/a
    for m in _RATIO.finditer(s):
        a, b = Decimal(m.group(1)), Decimal(m.group(2))
        if a != 0:
            out.add(b / a)
    return out


_RATIO = re.compile(r'(\d+(?:\.\d+)?)[:∶](\d+(?:\.\d+)?)')
