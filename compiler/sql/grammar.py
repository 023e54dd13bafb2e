"""The facts grammar of :mod:`polc.dsl.money` as DuckDB SQL: for a text column, an expression of its
value and an expression of the problem with it (NULL when none) — built from the same regular
expressions, limits and message functions as the Python reader, so that both engines accept and
reject the same spellings, read the same values and say the same thing.

Each builder takes a SQL expression of the cell's text (``col``: NULL means "not given") and a
``label`` put before every message (the table loader uses 「名称」：).  DuckDB's regular expressions
are RE2; the grammar's bodies are written in the subset RE2 and Python ``re`` share.
"""
from __future__ import annotations

from polc.dsl import money as M
from polc.compiler.sql.generate import quote, string

__all__ = ['fold_sql', 'parse_sql', 'Parsed', 'stages', 'money_sql', 'percent_sql', 'integer_sql',
           'message_sql']

_PLACEHOLDER = '\x00'


# the characters folding changes (a cell without any is only trimmed: the translation is slow)
_CHANGED = '[' + ''.join(ch for ch, to in zip(M.FOLD_FROM, M.FOLD_TO) if ch != to) + ']'


def fold_sql(col: str) -> str:
    """:func:`polc.dsl.money.fold` in SQL: full-width forms and spaces one for one, ends trimmed."""
    text = f'CAST({col} AS VARCHAR)'
    return (f"trim(CASE WHEN regexp_matches({text}, {string(_CHANGED)}) THEN "
            f"translate({text}, {string(M.FOLD_FROM)}, {string(M.FOLD_TO)}) ELSE {text} END, ' ')")


def message_sql(make, shown: str, label: str = '') -> str:
    """A message of :mod:`polc.dsl.money` (``make(text)``) with the cell's text ``shown`` filled in."""
    parts = (label + make(_PLACEHOLDER)).split(_PLACEHOLDER)
    return f' || {shown} || '.join(string(p) for p in parts)


def _pattern(syntax: M.NumberSyntax) -> str:
    return string('^' + syntax.body + '$')


def parse_sql(syntax: M.NumberSyntax, s: str) -> str:
    """One regular-expression pass over the folded text ``s``: a struct of the sign ``s``, integer
    part ``w`` (empty when the text does not match), decimals ``f`` and unit ``u``."""
    return f"regexp_extract({s}, {_pattern(syntax)}, ['s', 'w', 'f', 'u'])"


class Parsed:
    """Where a column's folded text and its parses are: SQL expressions (inline by default; the
    table loader computes them once per row as columns of an inner query and passes their names)."""

    def __init__(self, col: str, folded: str = None, parses: dict = None):
        self.col = col
        self.folded = folded or fold_sql(col)
        self.parses = parses or {}

    def of(self, syntax: M.NumberSyntax) -> str:
        return self.parses.get(syntax.body) or parse_sql(syntax, self.folded)


def stages(kind: str, col: str, prefix: str) -> tuple[list, list, Parsed]:
    """For the loader: ([(name, expr)] of the fold, [(name, expr)] of the parses, and the
    :class:`Parsed` that refers to them by name) of a text column of ``kind``."""
    syntaxes = {'money': [M.MONEY], 'percent': [M.PERCENT_SIGN, M.PERCENT_FRACTION],
                'int': [M.INTEGER, M.PERCENT_FRACTION]}[kind]
    t = quote(prefix + 't')
    first = [(t, fold_sql(col))]
    second = [(quote(f'{prefix}p{i}'), parse_sql(x, t)) for i, x in enumerate(syntaxes)]
    return first, second, Parsed(col, t, {x.body: n for x, (n, _e) in zip(syntaxes, second)})


class _Parts:
    """The pieces of one parse of a column."""

    def __init__(self, syntax: M.NumberSyntax, parsed: Parsed):
        m = parsed.of(syntax)
        self.matches = f"struct_extract({m}, 'w') <> ''"
        self.sign = f"struct_extract({m}, 's')"
        self.whole = f"replace(struct_extract({m}, 'w'), ',', '')"
        self.frac = f"struct_extract({m}, 'f')"
        self.unit = f"struct_extract({m}, 'u')"
        self.short = (f'length({self.whole}) <= {syntax.int_digits} AND '
                      f'length({self.frac}) <= {syntax.frac_digits}')
        self.number = (f"TRY_CAST({self.sign} || {self.whole} || CASE WHEN {self.frac} = '' THEN '' "
                       f"ELSE '.' || {self.frac} END AS DECIMAL(38, 10))")


def _unreadable(what: str, hint: str, s: str, shown: str, label: str) -> str:
    comma = message_sql(lambda t: M.unreadable_message(what, t, hint, True), shown, label)
    plain = message_sql(lambda t: M.unreadable_message(what, t, hint, False), shown, label)
    return f"CASE WHEN contains({s}, ',') THEN {comma} ELSE {plain} END"


def _parsed(col, parsed):
    return parsed if parsed is not None else Parsed(col)


def money_sql(col: str, label: str = '', parsed: Parsed = None) -> tuple[str, str]:
    """(value as DECIMAL(38, 2), problem) of a text cell read as money."""
    parsed = _parsed(col, parsed)
    s = parsed.folded
    p = _Parts(M.MONEY, parsed)
    factor = 'CASE ' + p.unit + ' ' + ' '.join(
        f'WHEN {string(u)} THEN {k}' for u, k in M.MONEY_UNITS.items()) + ' ELSE 1 END'
    limit = 'CASE ' + p.unit + ' ' + ' '.join(
        f'WHEN {string(u)} THEN {M.MONEY_MAX // k}' for u, k in M.MONEY_UNITS.items() if k != 1) + \
        f' ELSE {M.MONEY_MAX} END'
    ok = f'{p.matches} AND {p.short}'
    number = f'(CASE WHEN {ok} THEN {p.number} END)'
    value = f'(CASE WHEN {number} <= {limit} THEN {number} * {factor} END)'
    shown = f'CAST({col} AS VARCHAR)'
    given = f'{col} IS NOT NULL'
    problem = (f"CASE WHEN {given} AND NOT {p.matches} THEN {_unreadable('金额', M.MONEY_HINT, s, shown, label)} "
               f"WHEN {given} AND NOT ({p.short}) THEN {message_sql(lambda t: M.too_long_message(M.MONEY, t), shown, label)} "
               f"WHEN {given} AND {number} < 0 THEN {message_sql(M.negative_money_message, shown, label)} "
               f"WHEN {given} AND {number} > {limit} THEN {string(label + M.MONEY_RANGE_MESSAGE)} "
               f"WHEN {given} AND {value} <> ROUND({value}, 2) THEN {message_sql(M.fen_message, shown, label)} END")
    return f'CAST({value} AS DECIMAL(38, 2))', problem


def percent_sql(col: str, label: str = '', parsed: Parsed = None) -> tuple[str, str]:
    """(value as a DECIMAL(38, 10) fraction, problem) of a text cell read as a percentage."""
    parsed = _parsed(col, parsed)
    s = parsed.folded
    ps, pf = _Parts(M.PERCENT_SIGN, parsed), _Parts(M.PERCENT_FRACTION, parsed)
    value = (f'(CASE WHEN {ps.matches} AND {ps.short} THEN CAST({ps.number} * 0.01 AS DECIMAL(38, 10)) '
             f'WHEN {pf.matches} AND {pf.short} THEN {pf.number} END)')
    shown = f'CAST({col} AS VARCHAR)'
    given = f'{col} IS NOT NULL'
    problem = (f"CASE WHEN {given} AND {ps.matches} AND NOT ({ps.short}) THEN "
               f"{message_sql(lambda t: M.too_long_message(M.PERCENT_SIGN, t), shown, label)} "
               f"WHEN {given} AND {pf.matches} AND NOT ({pf.short}) THEN "
               f"{message_sql(lambda t: M.too_long_message(M.PERCENT_FRACTION, t), shown, label)} "
               f"WHEN {given} AND {value} IS NULL THEN {_unreadable('百分比', M.PERCENT_HINT, s, shown, label)} "
               f"WHEN {given} AND abs({value}) > {M.PERCENT_MAX} THEN "
               f"{message_sql(M.percent_range_message, shown, label)} END")
    return value, problem


def integer_sql(col: str, label: str = '', parsed: Parsed = None) -> tuple[str, str]:
    """(value as BIGINT, problem) of a text cell read as a whole number."""
    parsed = _parsed(col, parsed)
    s = parsed.folded
    p = _Parts(M.INTEGER, parsed)
    pf = _Parts(M.PERCENT_FRACTION, parsed)
    value = (f"(CASE WHEN {p.matches} AND {p.short} THEN CAST({p.sign} || {p.whole} AS BIGINT) END)")
    shown = f'CAST({col} AS VARCHAR)'
    given = f'{col} IS NOT NULL'
    problem = (f"CASE WHEN {given} AND NOT {p.matches} AND {pf.matches} THEN "
               f"{message_sql(M.not_integer_message, shown, label)} "
               f"WHEN {given} AND NOT {p.matches} THEN {_unreadable('整数', M.INTEGER_HINT, s, shown, label)} "
               f"WHEN {given} AND NOT ({p.short}) THEN {message_sql(lambda t: M.too_long_message(M.INTEGER, t), shown, label)} "
               f"WHEN {given} AND abs({value}) > {M.INTEGER_MAX} THEN "
               f"{message_sql(M.integer_range_message, shown, label)} END")
    return value, problem
