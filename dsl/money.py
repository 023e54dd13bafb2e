"""The one grammar of numbers written in facts: money (100万元, 1,234,567.89, 3000元), percentages
(12.5%, 0.125) and whole numbers (1,200) — for single eval, both table engines and every later reader.

The grammar is defined once, here, as data (a character table and regular-expression bodies written
in the common subset of Python ``re`` and RE2) so that the DuckDB loader builds its SQL from the very
same definition (:mod:`polc.compiler.sql.grammar`).  Pure standard library: ``polc build`` copies this
module into stand-alone builds.

The rules (docs/language.md, 「事实中的数」):

* Full-width forms mean the same as half-width ones, one character for one character
  (``１２３``, ``．``, ``，``, ``％``, ``＋``, ``－``); so ``1，000`` is ``1,000``.
* Spaces: the ordinary space, the ideographic (full-width) space, the no-break spaces (U+00A0,
  U+202F, U+2007) and the tab count as spaces.  Spaces may stand before and after the text and
  between the number and its unit, never inside the number.
* The number: an optional sign, then digits — either plain (leading zeros allowed: ``0100`` is 100)
  or in thousands groups of exactly three after a first group of one to three digits without a
  leading zero (``1,500``, ``1,234,567.89``) — then optionally a point and decimals.  A comma
  anywhere else is an error (``1,5``, ``,,1,,``, ``15,00``).
* Money may carry a unit: 元, 万元, 亿元 (also 萬元, 億元) or 万 / 亿 (萬 / 億) alone.
* Limits on the digits written: money at most 21 digits before the point (10^20 元 has 21) and
  10 after it; percentages 7 and 10 (8 before a %); whole numbers 13 and none.
* Values: money is not negative (``-0`` is 0), at most 10^20 元 and a whole number of fen;
  a percentage is within ±10^6 (as a fraction); a whole number within ±10^12.

Anything else is an error whose message names the text.  Other digit characters (``٣``), exponents
(``1e5``), underscores (``1_000``), ``.5``, ``5.`` and words are not numbers here.
"""
from __future__ import annotations

import re as _re
from decimal import Decimal as _Decimal

__all__ = ['SPACE_CHARS', 'FOLD_FROM', 'FOLD_TO', 'fold', 'MONEY_UNITS', 'MONEY_MAX', 'PERCENT_MAX',
           'INTEGER_MAX', 'NumberSyntax', 'MONEY', 'PERCENT_SIGN', 'PERCENT_FRACTION', 'INTEGER',
           'parse_money', 'parse_percent', 'parse_integer', 'money_of_decimal', 'schema_pattern']

# ---------------------------------------------------------------- normalising, one for one
SPACE_CHARS = '\t\u3000\u00a0\u202f\u2007'
FOLD_FROM = ''.join(chr(c) for c in range(0xFF01, 0xFF5F)) + SPACE_CHARS
FOLD_TO = ''.join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + ' ' * len(SPACE_CHARS)
_MONEY_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)


def fold(text: str) -> str:
    """Full-width forms to half-width and every kind of space to ' ', one character for one;
    then the spaces at both ends are dropped."""
    return text.translate(_MONEY_FOLD).strip(' ')


# ---------------------------------------------------------------- the grammar, as data
MONEY_UNITS = {'元': 1, '万元': 10000, '萬元': 10000, '亿元': 100000000, '億元': 100000000,
               '万': 10000, '萬': 10000, '亿': 100000000, '億': 100000000}
MONEY_MAX = _Decimal(10) ** 20          # 1万亿亿元: beyond any real budget
PERCENT_MAX = _Decimal(10) ** 6
INTEGER_MAX = 10 ** 12

# the digits of a number; groups: 1 sign, 2 integer part (commas kept), 3 decimals
_NUMBER = '([+-]?)([0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:[.]([0-9]+))?'


def _bounded_number(int_digits: int, frac_digits: int) -> str:
    """``_NUMBER`` with at most ``int_digits`` digits before the point (leading zeros and the digits
    of every thousands group counted) and ``frac_digits`` after it."""
    whole = [f'[0-9]{{1,{int_digits}}}']
    for k in range(1, (int_digits - 1) // 3 + 1):          # k thousands groups after the first
        first = min(3, int_digits - 3 * k)
        whole.append(f'[1-9][0-9]{{0,{first - 1}}}(?:,[0-9]{{3}}){{{k}}}')
    frac = f'(?:[.][0-9]{{1,{frac_digits}}})?' if frac_digits else ''
    return '[+-]?(?:' + '|'.join(whole) + ')' + frac


class NumberSyntax:
    """One kind of number text: ``body`` is a regular expression (Python ``re`` and RE2 alike,
    to be matched against the whole folded text) whose groups are 1 sign, 2 integer part,
    3 decimals and 4 the unit; ``int_digits``/``frac_digits`` bound the digits written."""

    def __init__(self, what: str, unit: str, int_digits: int, frac_digits: int):
        self.what = what
        number = _NUMBER if frac_digits else _NUMBER.replace('(?:[.]([0-9]+))?', '()')
        self.body = number + ('[ ]*(' + unit + ')' if unit else '()')
        self.int_digits = int_digits
        self.frac_digits = frac_digits
        self.fullmatch = _re.compile(self.body).fullmatch
        # the same texts as ``body`` within the digit limits, without groups: for vectorised
        # readers, where a regular expression without captures runs as a fast automaton
        self.bounded = _bounded_number(int_digits, frac_digits) + ('[ ]*(?:' + unit + ')' if unit else '')

    def read(self, text: str):
        """(sign, integer digits, decimals, unit) of ``text``; None if it does not match the
        grammar, 'digits' if it has more digits than allowed."""
        m = self.fullmatch(fold(text))
        if m is None:
            return None
        sign, whole, frac, unit = m.group(1), m.group(2).replace(',', ''), m.group(3) or '', m.group(4)
        if len(whole) > self.int_digits or len(frac) > self.frac_digits:
            return 'digits'
        return sign, whole, frac, unit


_UNIT_ALTERNATIVES = '|'.join(sorted(MONEY_UNITS, key=len, reverse=True))
MONEY = NumberSyntax('金额', '(?:' + _UNIT_ALTERNATIVES + ')?', 21, 10)
PERCENT_SIGN = NumberSyntax('百分比', '%', 7, 8)
PERCENT_FRACTION = NumberSyntax('百分比', '', 7, 10)
INTEGER = NumberSyntax('整数', '', 13, 0)

MONEY_HINT = '可写 1000000、1,000,000、100万元、3000元'
PERCENT_HINT = '可写 12.5% 或 0.125'
INTEGER_HINT = '可写 12 或 1,200'
COMMA_HINT = '逗号只能作千位分隔符，每组三位，如 1,500、1,234,567.89'


def schema_pattern(*syntaxes: NumberSyntax) -> str:
    """A JSON Schema (ECMA-262) pattern for the unfolded text of these syntaxes: the same grammar
    with each character class widened to its full-width forms and every kind of space.  It does
    not count digits (the limits are polc's own check)."""
    spaces = '[ ' + SPACE_CHARS + ']'
    bodies = []
    for syntax in syntaxes:
        b = syntax.body
        for old, new in (('[ ]', spaces), ('[0-9]', '[0-9０-９]'), ('[1-9]', '[1-9１-９]'),
                         ('[.]', '[.．]'), ('[+-]', '[+\\-＋－]'), ('(?:,', '(?:[,，]'), ('%', '[%％]')):
            b = b.replace(old, new)
        bodies.append(b)
    # (?![\s\S]): the end of the text in ECMA-262 and Python alike (Python's $ allows a final newline)
    return f'^{spaces}*(?:' + '|'.join(bodies) + f'){spaces}*(?![\\s\\S])'


# ---------------------------------------------------------------- messages (the SQL loader builds
# the same text by calling these with a placeholder for the cell's text)
def unreadable_message(what: str, text: str, hint: str, comma: bool) -> str:
    return f'无法读作{what}：「{text}」（{COMMA_HINT if comma else hint}）'


def too_long_message(syntax: NumberSyntax, text: str) -> str:
    frac = f'，小数部分最多 {syntax.frac_digits} 位' if syntax.frac_digits else ''
    return f'无法读作{syntax.what}：「{text}」（数字过长：整数部分最多 {syntax.int_digits} 位{frac}）'


def negative_money_message(text: str) -> str:
    return f'金额不能为负数：「{text}」'


MONEY_RANGE_MESSAGE = '金额超出可处理的范围（上限 10^20 元）'


def fen_message(text: str) -> str:
    return f'金额精确到分（0.01元），得到「{text}」'


def percent_range_message(text: str) -> str:
    return f'百分比超出范围：「{text}」'


def integer_range_message(text: str) -> str:
    return f'整数超出范围（绝对值不超过 10^12）：「{text}」'


def not_integer_message(text: str) -> str:
    return f'应为整数，得到「{text}」'


def _number_value(sign: str, whole: str, frac: str) -> _Decimal:
    v = _Decimal(sign + whole + ('.' + frac if frac else ''))
    return v.copy_abs() if not v else v          # -0 is 0


def money_of_decimal(v: _Decimal, shown: str) -> _Decimal:
    """The value rules of money (not negative, ≤ 10^20 元, whole fen) on a number; raises ValueError."""
    if not v:
        return v.copy_abs()
    if v < 0:
        raise ValueError(negative_money_message(shown))
    if v > MONEY_MAX:
        raise ValueError(MONEY_RANGE_MESSAGE)
    if v.as_tuple().exponent < -2 and v != v.quantize(_Decimal('0.01')):
        raise ValueError(fen_message(shown))
    return v


def parse_money(text: str) -> _Decimal:
    """Money text -> Decimal in 元; raises ValueError with a Chinese message naming the text."""
    r = MONEY.read(text)
    if r is None:
        raise ValueError(unreadable_message('金额', text, MONEY_HINT, ',' in text.translate(_MONEY_FOLD)))
    if r == 'digits':
        raise ValueError(too_long_message(MONEY, text))
    sign, whole, frac, unit = r
    v = _number_value(sign, whole, frac)
    if unit:
        v *= MONEY_UNITS[unit]
    return money_of_decimal(v, text)


def parse_percent(text: str) -> _Decimal:
    """'12.5%' -> 0.125, '0.125' -> 0.125; raises ValueError."""
    for syntax, scale in ((PERCENT_SIGN, -2), (PERCENT_FRACTION, 0)):
        r = syntax.read(text)
        if r == 'digits':
            raise ValueError(too_long_message(syntax, text))
        if r is not None:
            v = _number_value(*r[:3]).scaleb(scale)
            if abs(v) > PERCENT_MAX:
                raise ValueError(percent_range_message(text))
            return v
    raise ValueError(unreadable_message('百分比', text, PERCENT_HINT, ',' in text.translate(_MONEY_FOLD)))


def parse_integer(text: str) -> int:
    """'1,200' -> 1200; raises ValueError."""
    r = INTEGER.read(text)
    if r is None:
        if PERCENT_FRACTION.read(text) is not None:
            raise ValueError(not_integer_message(text))
        raise ValueError(unreadable_message('整数', text, INTEGER_HINT, ',' in text.translate(_MONEY_FOLD)))
    if r == 'digits':
        raise ValueError(too_long_message(INTEGER, text))
    v = int(r[0] + r[1])
    if abs(v) > INTEGER_MAX:
        raise ValueError(integer_range_message(text))
    return v
