"""Text number columns read fast, in DuckDB SQL: the values of :mod:`polc.dsl.money`'s grammar and
whether a cell is bad, without the messages (:mod:`polc.compiler.sql.grammar` builds the messages,
and the loader asks for them only for the rows found bad).

Where the time goes in a table of text cells: the full grammar in SQL folds every cell (a
``translate`` of the ~100 full-width forms), extracts four groups with one regular expression, and
builds each message expression.  Here:

* a *plain* cell — ASCII digits with an optional point (``1234567.89``: most cells of most tables) —
  is cast directly, after one match of a small pattern;
* any other cell is folded (only the forms a number can hold: full-width digits, signs, point,
  comma, percent sign, spaces; translated only where there is one), then matched
  against the syntax's ``bounded`` pattern (the grammar with its digit limits, without groups:
  RE2 runs it as an automaton), and its number is cut out with string functions;
* a cell is bad exactly when its value is missing or breaks a value rule (negative money, range,
  whole fen) — the same cells the full grammar gives a message for (tests/test_money.py checks
  the two against :mod:`polc.dsl.money` on generated spellings).

Each column is read in two projections (the loader makes them inner queries, so that no
expression is repeated): :meth:`TextColumn.folded` (NULL for a plain or empty cell), then
:meth:`TextColumn.value` from that; :meth:`TextColumn.typed` and :meth:`TextColumn.bad` refer to the
value by name.
"""
from __future__ import annotations

from polc.dsl import money as M
from polc.compiler.sql.generate import string

__all__ = ['TextColumn', 'FAST_KINDS']

FAST_KINDS = ('money', 'percent', 'int')

# plain cells, cast as they are: the digit limits keep them within the grammar's digit and value
# limits (money < 10^20 元 and whole fen, percentages < 10^6, whole numbers < 10^12), so a plain cell
# is never refused
_PLAIN = {'money': '[0-9]{1,20}(?:[.][0-9]{1,2}0{0,8})?', 'percent': '-?[0-9]{1,6}(?:[.][0-9]{1,10})?',
          'int': '[0-9]{1,12}'}

# folding for the fast reader: only the full-width forms and spaces that can be part of a number
# (digits, + - . , % and spaces); any other full-width form, folded or not, fails every pattern, so
# a cell matches, and reads the same number, exactly when its full fold (grammar.fold_sql) does.
# The spaces at the ends are not trimmed: the patterns allow them, and DuckDB's casts skip them.
_NUMBER_CHARS = set('0123456789+-.,% ')
_FROM = ''.join(a for a, b in zip(M.FOLD_FROM, M.FOLD_TO) if b in _NUMBER_CHARS and a != b)
_TO = ''.join(b for a, b in zip(M.FOLD_FROM, M.FOLD_TO) if b in _NUMBER_CHARS and a != b)


def _fold(text: str) -> str:
    return (f"CASE WHEN regexp_matches({text}, {string('[' + _FROM + ']')}) THEN "
            f"translate({text}, {string(_FROM)}, {string(_TO)}) ELSE {text} END")


def _matches(t: str, syntax: M.NumberSyntax) -> str:
    return f"regexp_full_match({t}, {string('[ ]*' + syntax.bounded + '[ ]*')})"


def _decimal(text: str) -> str:
    return f'TRY_CAST({text} AS DECIMAL(38, 10))'


def _exponent(t: str) -> str:
    """The money unit's power of ten as a suffix of the number's text ('e4' for 万元 …): DuckDB
    casts such text to DECIMAL exactly (and to NULL beyond DECIMAL(38, 10))."""
    whens = []
    for k in sorted({k for k in M.MONEY_UNITS.values() if k != 1}, reverse=True):
        assert 10 ** (len(str(k)) - 1) == k, 'a money unit is a power of ten'
        units = [u for u, f in M.MONEY_UNITS.items() if f == k]
        units = [u for u in units if not any(v != u and v in u for v in units)]    # 万 covers 万元
        whens.append(f"WHEN {' OR '.join(f'contains({t}, {string(u)})' for u in units)} THEN 'e{len(str(k)) - 1}'")
    return f"CASE {' '.join(whens)} ELSE '' END"


class TextColumn:
    """One text column of ``kind`` (money, percent, int): ``col`` its cells, ``folded`` and
    ``value`` the names the loader gives the two inner columns."""

    def __init__(self, kind: str, col: str, folded: str, value: str):
        self.kind, self.col, self.t, self.v = kind, col, folded, value
        self.text = f'CAST({col} AS VARCHAR)'

    def folded(self) -> str:
        """The folded text of a cell that is neither empty nor plain (NULL for those)."""
        return f'CASE WHEN regexp_full_match({self.text}, {string(_PLAIN[self.kind])}) THEN NULL ' \
               f'ELSE {_fold(self.text)} END'

    def value(self) -> str:
        """The number (DECIMAL(38, 10); BIGINT for whole numbers), NULL where the text is not
        one or breaks the digit limits; a money amount beyond DECIMAL(38, 10) is NULL too, and so
        is a plain money cell (:meth:`typed` casts it)."""
        t = self.t
        if self.kind == 'money':
            # the unit's characters and the spaces are taken out (after a match they can only be the
            # unit and the spaces around the number) and the unit's power of ten appended (DuckDB's
            # rtrim with a set of characters is slow)
            number = f"replace({t}, ',', '')"
            for ch in sorted({ch for u in M.MONEY_UNITS for ch in u} | {' '}):
                number = f'replace({number}, {string(ch)}, \'\')'
            whens = [(M.MONEY, _decimal(f'{number} || {_exponent(t)}'))]
            cast = 'NULL'             # a plain cell is cast straight to its type (typed())
        elif self.kind == 'percent':
            whens = [(M.PERCENT_SIGN, _decimal(f"replace(replace(replace({t}, '%', ''), ',', ''), ' ', '') || 'e-2'")),
                     (M.PERCENT_FRACTION, _decimal(f"replace({t}, ',', '')"))]
            cast = _decimal(self.text)
        else:
            whens = [(M.INTEGER, f"TRY_CAST(replace({t}, ',', '') AS BIGINT)")]
            cast = f'TRY_CAST({self.text} AS BIGINT)'
        arms = ' '.join(f'WHEN {_matches(t, s)} THEN {e}' for s, e in whens)
        return f'CASE WHEN {t} IS NULL THEN {cast} {arms} END'

    def typed(self) -> str:
        """The fact's value in the loader's type (as :mod:`polc.compiler.sql.grammar` gives it)."""
        if self.kind == 'money':        # (one cast of the text, not two of DECIMAL(38, 10) values)
            return f'CASE WHEN {self.t} IS NULL THEN TRY_CAST({self.text} AS DECIMAL(38, 2)) ' \
                   f'ELSE CAST({self.v} AS DECIMAL(38, 2)) END'
        return self.v

    def bad(self) -> str:
        """True where the cell is given and the grammar refuses it (it has a message): never a
        plain cell."""
        v = self.v
        broken = {'money': f'{v} < 0 OR {v} > {M.MONEY_MAX} OR {v} <> ROUND({v}, 2)',
                  'percent': f'abs({v}) > {M.PERCENT_MAX}', 'int': f'abs({v}) > {M.INTEGER_MAX}'}[self.kind]
        return f'({self.t} IS NOT NULL AND ({v} IS NULL OR {broken}))'
