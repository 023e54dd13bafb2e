"""The fast public path of ``CompiledPolicy.evaluate``: facts as a portal sends them (money as
"1200万元" or "12000000", percentages as "12.5%") read by coercion code generated for exactly the
declared inputs, the typed fast path for the amounts, and a light result that builds the full
:class:`~polc.compiler.python.results.EvalResult` (explanations, 原文, groups …) only when asked.

Every value the generated coercion reads is the value the runtime's ``coerce_facts`` reads, by the
same operations: the plain spellings ("1234.5", "12万元", "12.5%", 3, true, an enumeration value as
declared) are read inline, anything else goes to the runtime's own readers, and any problem at all
(a bad fact, an unknown name, a spelling in the other script, a missing required input) sends the
whole evaluation down the full path, so the error messages are the full path's, unchanged.

The generated ``evaluate_json(facts, date, compiled, explain)`` does its arithmetic in the runtime's
exact context without making it the current one: every operation that depends on a context names
it (``_cmul(a, b)`` is ``CONTEXT.multiply(a, b)``, ``x.quantize(FEN, HALF_UP, CONTEXT)``, the
readers below run inside it), so the caller's decimal context neither changes the result nor sees
a flag raised, and no context is switched per call.  A policy whose typed code needs something
not written that way (definitions, long sums, a firm cap …) gets a wrapper that switches to the
exact context around the call instead, as before.
"""
from __future__ import annotations

import decimal as _decimal
import datetime as _dt
import re as _re_fast
import time as _time
from decimal import Decimal

from polc.compiler.python import runtime as _R
from polc.compiler.python import runtime_facts as _RF

_ZERO = Decimal(0)
_ZERO_FEN = Decimal('0.00')
_FEN = Decimal('0.01')

_SWAP = _decimal.setcontext
_CURRENT = _decimal.getcontext
_FAST_CONTEXT = _R.CONTEXT.copy()        # the runtime's exact context, for this path alone
_CX = _FAST_CONTEXT
# the operations of the generated code that depend on a context, in the exact one
_cmul, _cadd, _csub, _cneg = _CX.multiply, _CX.add, _CX.subtract, _CX.minus
_CXU = _CX.copy()
_CXU.rounding = _decimal.ROUND_HALF_UP
_qfen = _CXU.quantize         # _qfen(a, FEN) is a.quantize(FEN, ROUND_HALF_UP, CONTEXT)


def _xdiv(a, b):
    """``runtime.div`` in the exact context."""
    if b == 0:
        raise _R.Inapplicable('除数为零，无法计算')
    return _CX.divide(a, b)


def _xfloor_div(a, b):
    """``runtime.floor_div`` in the exact context."""
    return _CX.divide_int(Decimal(a), Decimal(b)).to_integral_value(_decimal.ROUND_FLOOR, _CX)


def _xprogressive_award(award, received, lowest):
    """``runtime.progressive_award`` in the exact context."""
    if award is None:
        raise _R._BelowLowest(lowest)
    award = _csub(award, received)
    return award if award > 0 else Decimal(0)


def _xprogressive(base, thresholds, awards, received):
    """``runtime.progressive`` in the exact context."""
    level = _R.progressive_level(base, thresholds)
    if level < 0:
        raise _R.Inapplicable(f'未达到最低门槛 {_R.format_money(thresholds[0])}')
    award = _csub(awards[level], received)
    return award if award > 0 else Decimal(0)


def _xround_fen(value):
    """``runtime.round_fen`` in the exact context."""
    r = value.quantize(_FEN, _decimal.ROUND_HALF_UP, _CX)
    return r if r or not r.is_signed() else _ZERO_FEN


def _exactly(read):
    """A runtime reader of one fact run in the exact context (as the full path runs it)."""
    def exactly(value):
        saved = _CURRENT()
        _SWAP(_CX)
        try:
            return read(value)
        finally:
            _SWAP(saved)
    exactly.__name__ = exactly.__qualname__ = read.__name__
    return exactly


_money, _percent, _int, _bool, _date = (_exactly(f) for f in (
    _RF._coerce_money, _RF._coerce_percent, _RF._coerce_int, _RF._coerce_bool, _RF._coerce_date))


def coerce_lines(inputs, lazy: bool = False) -> list[str]:
    """Module lines and the head of ``evaluate_json(facts, date, compiled=None, explain=False)``
    (the typed path's body follows): every declared input (``inputs``: (variable, name, kind) in
    INPUTS order) checked and read into its variable, without depending on the current decimal
    context.  The head returns None when the facts need the full path (other spellings, unknown
    names, a missing required input, an enumeration value not as declared) and lets the runtime
    readers' ValueError/ArithmeticError out for bad values (the caller then takes the full path,
    which reports them in its own words).  With ``lazy``, amounts read in the usual case are
    left as text (their variable None, the text in ``_m0``, ``_m1`` …) for the body to read where
    it first needs them (:func:`lazy_money`)."""
    lines = ['from polc.compiler.python.runtime_facts import _PLAIN_MONEY as _PM, _WAN_MONEY as _PW, '
             '_PLAIN_PERCENT as _PP',
             'from polc.compiler.python.fast import _re_fast, _money, _percent, _int, _bool, _date, '
             '_CX, _qfen, _cmul, _cadd, _csub, _cneg, _xdiv, _xfloor_div, _xprogressive_award, _xprogressive, '
             '_xround_fen, _DAYS, day_of as _day, LightResult as _LR, light as _light, '
             '_CURRENT, _SWAP, _DATE',
             '_FAST_NAMES = frozenset(INPUTS)',
             '_NIN = len(INPUTS)',
             '_DEF = tuple(v[2] for v in INPUTS.values())',
             '_ENUM = tuple(frozenset(v[1]) for v in INPUTS.values())',
             '_WAN = 10000',
             '_VD = {}                 # date text -> that date, within the validity',
             '',
             'def evaluate_json(facts, date, compiled=None, explain=False):',
             '    """JSON-style facts (checked here), a date and the policy -> a LightResult, or None:'
             ' the fast path of CompiledPolicy.evaluate."""',
             '    _chk = False             # whether some declared input was not given (or given as null)']
    money = [(i, v, name) for i, (v, name, kind) in enumerate(inputs) if kind == 'money']
    others = [(i, v, name, kind) for i, (v, name, kind) in enumerate(inputs) if kind != 'money']
    for i, _v, _n, kind in others:
        if kind == 'enum':
            lines.insert(lines.index(''), f'_E{i} = _ENUM[{i}]')     # before the function
    # the usual case: every input given, every amount a plain string ("1234.56"): one match for
    # all the amounts, each value read from the dict by subscription
    texts = [f'_m{j}' for j in range(len(money))]
    lines += ['    try:',
              *(f'        {t} = facts[{n!r}]' for t, (_i, _v, n) in zip(texts, money)),
              *(f'        _x{i} = facts[{n!r}]' for i, _v, n, _k in others)]
    if money:
        lines[2:2] = [f'_PM_ALL = _re_fast.compile({_plain_money_all(len(money))!r}).match']
        joined = 'f"' + '\\x00'.join('{' + t + '}' for t in texts) + '"' if len(texts) > 1 else texts[0]
        lines.append('        _ms = ' + ''.join(f'type({t}) is ' for t in texts) + f'str and _PM_ALL({joined})')
    else:
        lines.append('        _ms = True')
    lines += ['    except KeyError:',
              '        _ms = None',
              '    if _ms:',
              *(f'        {v} = None' if lazy else f'        {v} = _D({t}, _CX)'
                for t, (_i, v, _n) in zip(texts, money))]
    for i, v, name, kind in others:
        lines += [f'        x = _x{i}', *('    ' + line for line in _other_lines(i, v, kind))]
    lines += ['    else:                   # one at a time, as the runtime reads them',
              '        g = facts.get']
    for i, v, name in money:
        lines += ['    ' + line for line in _money_lines(v, repr(name), _missing(i, v))]
    for i, v, name, kind in others:
        lines += [f'        x = g({name!r})', *('    ' + line for line in _other_lines(i, v, kind))]
    # no name other than the declared ones: when every one was given, counting the facts suffices
    lines += ['    if (_chk or len(facts) != _NIN) and not _FAST_NAMES.issuperset(facts):',
              '        return None']
    return lines


def lazy_money(inputs) -> dict:
    """For ``coerce_lines(inputs, lazy=True)``: variable of each amount -> the code that reads it
    (the text checked plain, read on first use, once)."""
    money = [v for v, _name, kind in inputs if kind == 'money']
    return {v: f'({v} if {v} is not None else ({v} := _D(_m{j}, _CX)))' for j, v in enumerate(money)}


def _other_lines(i, v, kind) -> list[str]:
    """Input ``i`` (not an amount), its value in ``x``, read into ``v``."""
    missing = _missing(i, v)
    if kind == 'percent':
        return ['    if type(x) is str and (m := _PP(x)):',
                '        x = _D(m.group(1), _CX)',
                f'        {v} = (x if x else x.copy_abs()).scaleb(-2, _CX)',
                *missing,
                '    else:',
                f'        {v} = _percent(x)']
    if kind == 'int':
        return ['    if type(x) is int and -1000000000000 <= x <= 1000000000000:',
                f'        {v} = x',
                *missing,
                '    else:',
                f'        {v} = _int(x)']
    if kind == 'bool':
        return ['    if x is True or x is False:',
                f'        {v} = x',
                *missing,
                '    else:',
                f'        {v} = _bool(x)']
    if kind == 'enum':
        return [f'    if type(x) is str and x in _E{i}:',
                f'        {v} = x',
                *missing,
                '    else:',
                '        return None']
    if kind == 'date':
        return ['    if False:', '        pass', *missing, '    else:', f'        {v} = _date(x)']
    return ['    if False:', '        pass', *missing, '    else:', '        return None']


def _missing(i, v) -> list[str]:
    """Lines reading the default of input ``i`` when it is not given (or given as null); None
    (the full path) when it has none."""
    return ['    elif x is None:', '        _chk = True', f'        {v} = _DEF[{i}]',
            f'        if {v} is None: return None']


def date_lines(outside: str) -> list[str]:
    """After the coercion: the evaluation date as ``evaluation_date`` reads it (none given: today),
    and the light result of no item when it is ``outside`` the validity (a test of ``date``, or
    ''); a date given as text and within the validity is remembered, and needs no test again."""
    lines = ['    if type(date) is str and (_d := _VD.get(date)) is not None:',
             '        date = _d',
             '    else:',
             '        _s = date',
             '        if type(date) is not _DATE:',
             '            date = _day(date)']
    if outside:
        lines += [f'        if {outside}:',
                  '            return _light(compiled, facts, date, explain, _NAMES, (_NA, None) * len(_NAMES), _Z)']
    return lines + ['        if type(_s) is str:',
                    '            if len(_VD) > 1024:',
                    '                _VD.clear()',
                    '            _VD[_s] = date']


def result_lines(entries: str) -> list[str]:
    """The end of ``evaluate_json``: the light result (``entries``: outcome, value, outcome, value …
    in the order of ``_NAMES``), built without a call to ``__init__``."""
    return ['    r = _LR()',
            '    r._compiled = compiled; r._facts = facts.copy(); r.date = date; r._explain = explain',
            f'    r._names = _NAMES; r._out = ({entries},); r.total = _t; r._full = None',
            '    return r']


def switching_lines() -> list[str]:
    """``evaluate_json`` for typed code that does not name its context everywhere: the body
    (``_evaluate_json``) called with the exact context made the current one."""
    return ['def evaluate_json(facts, date, compiled=None, explain=False):',
            '    _s = _CURRENT()',
            '    _SWAP(_CX)',
            '    try:',
            '        return _evaluate_json(facts, date, compiled, explain)',
            '    finally:',
            '        _SWAP(_s)']


def _plain_money_all(count: int) -> str:
    """``count`` plain amounts joined by NUL: each as ``runtime_facts._PLAIN_MONEY`` reads it
    (a NUL inside an amount makes one field too many, so no match).  The repeats are possessive:
    a run of digits is never given back, which cannot change whether the text matches (what may
    follow a run of digits is never a digit) but saves the regular expression engine's
    bookkeeping."""
    one = r'[0-9]{1,20}+(?:\.[0-9]{1,2}+)?+'
    return r'\x00'.join([one] * count) + r'\Z'


def _money_lines(v, n, missing) -> list[str]:
    """One amount read on its own (not every amount a plain string)."""
    return [f'    x = g({n})',
            '    if type(x) is str:',
            '        if _PM(x):',
            f'            {v} = _D(x, _CX)',
            '        else:',
            '            m = _PW(x)',
            f'            {v} = _cmul(_D(m.group(1), _CX), _WAN) if m else _money(x)',
            *missing,
            '    else:',
            f'        {v} = _money(x)']


_DATE = _dt.date
_DAYS: dict = {}                         # date text -> date, as evaluation_date reads it
_clock = _time.time                      # seconds; tests set it to cross midnight
_TODAY = (None, 0.0)                     # (today, the second today ends), as evaluation_date(None)


def today() -> _dt.date:
    """``datetime.date.today()`` (the evaluation date when none is given), read once a day: the
    local date of ``_clock()``, remembered until the local midnight that ends it."""
    global _TODAY
    now = _clock()
    day, end = _TODAY
    if now < end and day is not None:
        return day
    day = _dt.date.fromtimestamp(now)
    _TODAY = (day, _dt.datetime.combine(day + _dt.timedelta(days=1), _dt.time()).timestamp())
    return day


def day_of(date) -> _dt.date:
    """The evaluation date, as ``runtime.evaluation_date`` reads it (ValueError when it cannot:
    the full path then reports it); a date given as text is remembered."""
    if date is None:
        return today()
    day = _R.evaluation_date(date)
    if type(date) is str:
        if len(_DAYS) > 1024:
            _DAYS.clear()
        _DAYS[date] = day
    return day


def light(compiled, facts, day, explain, names, out, total):
    """A :class:`LightResult` (the generated code builds its own inline): ``out`` holds outcome,
    value, outcome, value … of the items ``names``."""
    r = LightResult()
    r._compiled = compiled
    r._facts = facts.copy()
    r.date = day
    r._explain = explain
    r._names = names
    r._out = out
    r.total = total
    r._full = None
    return r


class LightItem:
    """An item of a :class:`LightResult`: name, outcome, paid and ceiling at hand; any other field
    of :class:`~polc.compiler.python.results.ItemResult` is read from the full result."""
    __slots__ = ('_owner', '_index', 'name', 'outcome', 'paid', 'ceiling')

    def __init__(self, owner, index, name, outcome, value):
        self._owner = owner
        self._index = index
        self.name = name
        self.outcome = outcome
        self.paid = value if outcome is _R.AMOUNT else _ZERO
        self.ceiling = value if outcome is _R.CEILING else None

    def _full(self):
        return self._owner.full().items[self._index]

    def __getattr__(self, attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        return getattr(self._full(), attr)

    def __eq__(self, other):
        return self._full() == (other._full() if isinstance(other, LightItem) else other)

    __hash__ = None

    def __repr__(self):
        return repr(self._full())


class LightResult:
    """What ``CompiledPolicy.evaluate`` returns on the fast path: the outcomes, paid amounts,
    ceilings, ``total``, ``date`` and ``valid`` computed; everything else of
    :class:`~polc.compiler.python.results.EvalResult` (explanations, groups, totals per kind,
    ``to_dict()`` …) comes from the full evaluation, run once on first use on (a copy of) the same
    facts: the very document the full path gives."""
    __slots__ = ('_compiled', '_facts', 'date', '_explain', '_names', '_out', 'total', '_full', '_items')
    # made by :func:`light` or by the generated code (no ``__init__``: the slots are set one by one);
    # ``_full`` (the full result) is None until first needed, ``_items`` unset until first read

    @property
    def policy(self) -> str:
        return self._compiled.name

    @property
    def valid(self) -> bool:
        return _R._validity(self._compiled.meta, self.date)[0]

    @property
    def items(self) -> tuple:
        try:
            return self._items
        except AttributeError:
            out = self._out
            items = self._items = tuple(LightItem(self, i, n, out[2 * i], out[2 * i + 1])
                                         for i, n in enumerate(self._names))
        return items

    def full(self):
        """The full :class:`~polc.compiler.python.results.EvalResult` (made once)."""
        full = self._full
        if full is None:
            full = self._full = self._compiled.evaluate_full(self._facts, self.date, self._explain)
        return full

    def __getattr__(self, attr):
        if attr.startswith('__') or attr == '_items':
            raise AttributeError(attr)
        return getattr(self.full(), attr)

    def __eq__(self, other):
        return self.full() == (other.full() if isinstance(other, LightResult) else other)

    __hash__ = None

    def __repr__(self):
        return repr(self.full())
