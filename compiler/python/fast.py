"""The fast public path of ``CompiledPolicy.evaluate``: facts as a portal sends them (money as
"1200万元" or "12000000", percentages as "12.5%") read by coercion code generated for exactly the
declared inputs, the typed fast path for the amounts, and a light result that builds the full
:class:`~polc.compiler.python.results.EvalResult` (explanations, 原文, groups …) only when asked.

Every value the generated coercion reads is the value the runtime's ``coerce_facts`` reads, by the
same operations: the plain spellings ("1234.5", "12万元", "12.5%", 3, true, an enumeration value as
declared) are read inline, anything else goes to the runtime's own readers, and any problem at all
(a bad fact, an unknown name, a spelling in the other script, a missing required input) sends the
whole evaluation down the full path, so the error messages are the full path's, unchanged.
"""
from __future__ import annotations

import decimal as _decimal
import datetime as _dt
import re as _re_fast
import time as _time
from decimal import Decimal

from polc.compiler.python import runtime as _R

_ZERO = Decimal(0)


def coerce_lines(inputs) -> list[str]:
    """Module lines and the head of ``evaluate_json(facts, date)`` (the typed path's body follows):
    every declared input (``inputs``: (variable, name, kind) in INPUTS order) checked and read into
    its variable.  The function returns None when the facts need the full path (other spellings,
    unknown names, a missing required input, an enumeration value not as declared) and lets the
    runtime readers' ValueError/ArithmeticError out for bad values (the caller then takes the full
    path, which reports them in its own words)."""
    lines = ['from polc.compiler.python.runtime_facts import _PLAIN_MONEY as _PM, _WAN_MONEY as _PW, '
             '_PLAIN_PERCENT as _PP, _coerce_money as _money, _coerce_percent as _percent, '
             '_coerce_int as _int, _coerce_bool as _bool, _coerce_date as _date',
             'from polc.compiler.python.fast import _re_fast',
             '_FAST_NAMES = frozenset(INPUTS)',
             '_DEF = tuple(v[2] for v in INPUTS.values())',
             '_ENUM = tuple(frozenset(v[1]) for v in INPUTS.values())',
             '_WAN = 10000',
             '',
             'def evaluate_json(facts, date):',
             '    """JSON-style facts (checked here) and a date -> ({item: (outcome, value)}, total),'
             ' or None: the fast path of CompiledPolicy.evaluate."""',
             '    if not _FAST_NAMES.issuperset(facts):',
             '        return None',
             '    g = facts.get']
    money = [(v, name) for v, name, kind in inputs if kind == 'money']
    if money:       # the usual case: every amount a plain string ("1234.56"), one match for them all
        lines[2:2] = [f'_PM_ALL = _re_fast.compile({_plain_money_all(len(money))!r}).match']
        lines += ['    try:',
                  '        _mt = (' + ''.join(f'facts[{n!r}], ' for _v, n in money) + ')',
                  '        _ms = ' + ''.join(f'type(_mt[{j}]) is ' for j in range(len(money)))
                  + "str and _PM_ALL('\\x00'.join(_mt))",
                  '    except KeyError:',
                  '        _ms = None',
                  '    if _ms:']
        lines += [f'        {v} = _D(_mt[{j}])' for j, (v, _n) in enumerate(money)]
    for i, (v, name, kind) in enumerate(inputs):
        n = repr(name)
        missing = ['    elif x is None:', f'        {v} = _DEF[{i}]', f'        if {v} is None: return None']
        if kind == 'money':               # one at a time, as the runtime reads it
            lines += ['    if not _ms:', *('    ' + line for line in _money_lines(v, n, missing))]
            continue
        lines.append(f'    x = g({n})')
        if kind == 'percent':
            lines += ['    if type(x) is str and (m := _PP(x)):',
                      '        x = _D(m.group(1))',
                      f'        {v} = (x if x else x.copy_abs()).scaleb(-2)',
                      *missing,
                      '    else:',
                      f'        {v} = _percent(x)']
        elif kind == 'int':
            lines += ['    if type(x) is int and -1000000000000 <= x <= 1000000000000:',
                      f'        {v} = x',
                      *missing,
                      '    else:',
                      f'        {v} = _int(x)']
        elif kind == 'bool':
            lines += ['    if x is True or x is False:',
                      f'        {v} = x',
                      *missing,
                      '    else:',
                      f'        {v} = _bool(x)']
        elif kind == 'enum':
            lines += [f'    if type(x) is str and x in _ENUM[{i}]:',
                      f'        {v} = x',
                      *missing,
                      '    else:',
                      '        return None']
        elif kind == 'date':
            lines += ['    if False:', '        pass', *missing, '    else:', f'        {v} = _date(x)']
        else:
            lines += ['    if False:', '        pass', *missing, '    else:', '        return None']
    return lines


def _plain_money_all(count: int) -> str:
    """``count`` plain amounts joined by NUL: each as ``runtime_facts._PLAIN_MONEY`` reads it
    (a NUL inside an amount makes one field too many, so no match)."""
    one = r'[0-9]{1,20}(?:\.[0-9]{1,2})?'
    return one + r'(?:\x00' + one + '){' + str(count - 1) + r'}\Z'


def _money_lines(v, n, missing) -> list[str]:
    """One amount read on its own (not every amount a plain string)."""
    return [f'    x = g({n})',
            '    if type(x) is str:',
            '        if _PM(x):',
            f'            {v} = _D(x)',
            '        else:',
            '            m = _PW(x)',
            f'            {v} = _D(m.group(1)) * _WAN if m else _money(x)',
            *missing,
            '    else:',
            f'        {v} = _money(x)']


_SWAP = _decimal.setcontext
_CURRENT = _decimal.getcontext
_FAST_CONTEXT = _R.CONTEXT.copy()        # the runtime's exact context, for this path alone
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


def evaluate_fast(compiled, fn, facts, date, explain):
    """A :class:`LightResult`, or None when these facts need the full path."""
    if date is None:
        day = today()
    elif type(date) is str:
        day = _DAYS.get(date)
        if day is None:
            try:
                day = _R.evaluation_date(date)
            except ValueError:              # the full path reports it, in its own words
                return None
            if len(_DAYS) > 1024:
                _DAYS.clear()
            _DAYS[date] = day
    elif type(date) is _dt.date:
        day = date
    else:
        try:
            day = _R.evaluation_date(date)
        except ValueError:
            return None
    saved = _CURRENT()
    _SWAP(_FAST_CONTEXT)
    try:
        r = fn(facts, day)
    except (ValueError, ArithmeticError):       # the full path reports it, in its own words
        return None
    finally:
        _SWAP(saved)
    if r is None:
        return None
    return LightResult(compiled, facts.copy(), day, explain, r)


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
    __slots__ = ('_compiled', '_facts', 'date', '_explain', '_out', 'total', '_full', '_items')

    def __init__(self, compiled, facts, day, explain, r):
        self._compiled = compiled
        self._facts = facts
        self.date = day
        self._explain = explain
        self._out, self.total = r
        self._full = None               # the full result, made when first needed (_items too)

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
            items = self._items = tuple(LightItem(self, i, n, o, v)
                                         for i, (n, (o, v)) in enumerate(self._out.items()))
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
