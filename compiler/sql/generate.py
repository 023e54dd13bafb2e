"""Compile a checked policy to one SQL query over a table of applicants.

The query reads a *typed* facts table (one column per declared input, NULL where not given, plus
``行号``) and returns, per applicant, each item's outcome kind and amount and the total paid —
the same columns and the same numbers as the per-row path (``polc eval --out``).

It keeps to a portable subset of SQL, so that the same query runs on DuckDB here and on a
distributed engine (Spark SQL, Trino, PostgreSQL …) elsewhere: ``WITH`` and ``SELECT``,
``CASE``, ``COALESCE``, ``CAST(… AS DECIMAL(p, s))``, ``LEAST``/``GREATEST``, ``FLOOR``,
``ROUND(x, 2)``, comparisons and ``IN``.  No division is ever emitted (SQL engines divide
DECIMALs into floating point): a division by a constant whose inverse is a finite decimal becomes
a multiplication, and a division by a fact inside a comparison becomes a sign-aware
cross-multiplication (a ÷ b ≥ c  ⇔  a ≥ c × b when b > 0).  Anything else is refused with
:class:`SqlUnsupported`, never computed approximately.

Every number carries its exact DECIMAL type (compiler/sql/decimals.py): products are cast to
d1 + d2 digits and s1 + s2 decimals, both sides of a comparison to one type, and nothing needs more
than 38 digits — so Spark's own rules (scale cut to 6 under ``allowPrecisionLoss``, comparisons
rounding the more precise side) find nothing to round, whatever the settings.

Semantics mirror the runtime (compiler/runtime.py) and the reference interpreter: an item's
amount is rounded half up to the fen and never below 0; a value that cannot be computed (a year
outside a schedule, a zero divisor …) makes the item not applicable; groups (就高 / 合计…最高)
are applied in the runtime's order, one ``WITH`` step each.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal, localcontext
from typing import Optional

from polc.dsl import ast as A
from polc.dsl.checks import Checked

from polc.compiler.python import runtime as R
from polc.compiler.tables.allocation import allocation_sql
from polc.compiler.sql.decimals import INPUT_TYPES, MAX_DIGITS, N, cast, common, decimal_type, highest
from polc.compiler.sql.groups import groups_and_result

from polc.compiler.sql.basics import CODES, FALSE, MONEY, TRUE, SqlUnsupported, quote, string  # noqa: F401


def _and(*parts: Optional[str]) -> Optional[str]:
    parts = [p for p in parts if p is not None and p != TRUE]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else '(' + ' AND '.join(parts) + ')'


def _decimal_literal(v: Decimal) -> str:
    """An exact numeric literal; SQL engines read more than 38 digits as floating point, so
    such a number is refused."""
    v = Decimal(v)
    text = str(int(v)) if v == v.to_integral_value() else format(v.normalize(), 'f')
    if sum(c.isdigit() for c in text) > 38:
        raise SqlUnsupported(f'数 {text[:20]}… 超过 38 位，SQL 引擎无法精确表示；请用 --engine python')
    return text


def _exact_inverse(v: Decimal) -> Optional[Decimal]:
    """1 / v when it is a finite decimal (v's only prime factors are 2 and 5), else None."""
    if v == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        inv = Decimal(1) / v
        if inv * v == 1 and len(inv.normalize().as_tuple().digits) <= 30:
            return inv
    return None


class _Div:
    """A quotient that is only allowed inside a comparison."""

    def __init__(self, num: str, den: str):
        self.num, self.den = num, den


class _Gen:
    def __init__(self, checked: Checked):
        self.c = checked
        self.p = checked.policy
        self.inputs = {d.name.text: d for d in self.p.inputs}
        self.defines = {d.name.text: d for d in self.p.defines}
        self.maxima = bool(self.p.header_value('rates_are_maxima', False))
        self.bounds: dict[str, Decimal] = {}      # item -> its amounts never exceed this

    def t(self, node) -> str:
        return self.c.type_of(node) or 'number'

    # ------------------------------------------------------------ constants
    def constant(self, e) -> Optional[Decimal]:
        """The value of a numeric expression without facts, or None."""
        if isinstance(e, (A.Money, A.Percent, A.Number)):
            return Decimal(e.value)
        if isinstance(e, A.Neg):
            v = self.constant(e.operand)
            return None if v is None else -v
        if isinstance(e, A.Ref) and e.name in self.defines:
            return self.constant(self.defines[e.name].expr)
        if isinstance(e, A.BinOp):
            a, b = self.constant(e.left), self.constant(e.right)
            if a is None or b is None:
                return None
            with localcontext(R.CONTEXT):
                if e.op == '+':
                    return a + b
                if e.op == '-':
                    return a - b
                if e.op == '*':
                    return a * b
                inv = _exact_inverse(b)
                return None if inv is None else a * inv
        return None

    def literal(self, v: Decimal) -> N:
        """An exact literal, typed DECIMAL(d + s, s) explicitly (engines type bare literals
        differently: Spark reads 500000 as INT, 0.1 as DECIMAL(1, 1))."""
        text = _decimal_literal(v)
        v = Decimal(text)
        s = max(0, -v.normalize().as_tuple().exponent) if v != 0 else 0
        whole = abs(int(v))
        d = len(str(whole)) if whole else 0
        return N(f'CAST({text} AS {decimal_type(d, s)})', d, s, text, v)

    def fits(self, d: int, s: int, e, what: str) -> None:
        if d + s > MAX_DIGITS:
            raise SqlUnsupported(self.where(e) + f'：{what}可能需要 {d + s} 位数字，超过 38 位，无法精确编译为 SQL；'
                                 '请用 --engine python')

    def number(self, x, e) -> N:
        """x as a typed number (a value the generator typed, or a refusal naming the place)."""
        if isinstance(x, N):
            return x
        raise SqlUnsupported(self.where(e) + '：这里需要一个数，无法编译为 SQL')

    def mul(self, a: N, b: N, e) -> N:
        # Spark types a product DECIMAL(p1 + p2 + 1, s1 + s2): that must fit in 38 digits
        self.fits(a.p + b.p + 1, 0, e, '乘积')
        d, s = a.d + b.d, a.s + b.s
        return N(f'CAST(({a} * {b}) AS {decimal_type(d, s)})', d, s)

    def add(self, a: N, b: N, op: str, e) -> N:
        d, s = max(a.d, b.d) + 1, max(a.s, b.s)
        self.fits(d, s, e, '和或差')
        hi = a.hi + b.hi if op == '+' and a.hi is not None and b.hi is not None else None
        return N(f'({a} {op} {b})', d, s, hi=hi)

    def pick(self, fn: str, xs: list, e) -> N:
        """LEAST / GREATEST of numbers cast to one type."""
        xs = [self.number(x, e) for x in xs]
        d, s = common(*xs)
        self.fits(d, s, e, '取值')
        # LEAST is at most any one bound; GREATEST at most the largest when all are bounded
        known = [x.hi for x in xs if x.hi is not None]
        hi = (min(known) if known else None) if fn == 'LEAST' else highest(xs)
        return N(f'{fn}({", ".join(cast(x, d, s) for x in xs)})', d, s, hi=hi)

    def cmp(self, a, op: str, b, e) -> str:
        """a op b, both sides cast to one DECIMAL type when they are numbers."""
        if isinstance(a, N) and isinstance(b, N):
            d, s = common(a, b)
            self.fits(d, s, e, '比较')
            a, b = cast(a, d, s), cast(b, d, s)
        return f'{a} {op} {b}'

    def case(self, whens: list[tuple[str, object]], e, other=None) -> object:
        """CASE WHEN c THEN v … END with every numeric value cast to one type."""
        values = [v for _c, v in whens] + ([other] if other is not None else [])
        typed = all(isinstance(v, N) for v in values)
        if typed:
            d, s = common(*values)
            self.fits(d, s, e, '取值')
            whens = [(c, cast(v, d, s)) for c, v in whens]
            other = cast(other, d, s) if other is not None else None
        text = 'CASE ' + ' '.join(f'WHEN {c} THEN {v}' for c, v in whens) + \
            (f' ELSE {other}' if other is not None else '') + ' END'
        return N(text, d, s, hi=highest(values)) if typed else text

    # ------------------------------------------------------------ expressions
    def value(self, e) -> tuple[object, Optional[str]]:
        """(SQL expression or _Div, guard) — the guard is the condition under which the value can
        be computed (None: always).  Numbers are :class:`N` (typed DECIMALs)."""
        if isinstance(e, (A.Money, A.Percent, A.Number)):
            return self.literal(e.value), None
        if isinstance(e, A.Bool):
            return (TRUE if e.value else FALSE), None
        if isinstance(e, A.DateLit):
            return f"DATE '{e.value.isoformat()}'", None
        if isinstance(e, A.Ref):
            if e.name in self.inputs:
                kind = self.input_kind(e.name)
                if kind in INPUT_TYPES:
                    return N(f'f.{quote(e.name)}', *INPUT_TYPES[kind]), None
                return f'f.{quote(e.name)}', None
            if e.name in self.defines:
                v, ok = self.value(self.defines[e.name].expr)
                if isinstance(v, N):
                    return N(f'({v})', v.d, v.s, hi=v.hi), ok
                return (f'({v})' if isinstance(v, str) else v), ok
            return string(e.name), None
        if isinstance(e, A.Neg):
            v, ok = self.scalar(e.operand)
            v = self.number(v, e)
            return N(f'(-{v})', v.d, v.s), ok
        if isinstance(e, A.BinOp):
            if e.op == '/':
                return self.division(e)
            a, ok_a = self.scalar(e.left)
            b, ok_b = self.scalar(e.right)
            a, b = self.number(a, e.left), self.number(b, e.right)
            v = self.mul(a, b, e) if e.op == '*' else self.add(a, b, e.op, e)
            return v, _and(ok_a, ok_b)
        if isinstance(e, A.Compare):
            return self.compare(e)
        if isinstance(e, A.Range):
            x, ok = self.scalar(e.subject)
            parts, guards = [], [ok]
            for bound, strict, loose in ((e.low, '>', '>='), (e.high, '<', '<=')):
                if bound is not None:
                    b, ok_b = self.scalar(bound.value)
                    guards.append(ok_b)
                    parts.append(self.cmp(x, loose if bound.inclusive else strict, b, e))
            return ('(' + ' AND '.join(parts) + ')' if parts else TRUE), _and(*guards)
        if isinstance(e, A.Is):
            x, ok = self.scalar(e.subject)
            return f'({x} = {string(e.value.text)})', ok
        if isinstance(e, A.In):
            x, ok = self.scalar(e.subject)
            return f'({x} IN ({", ".join(string(v.text) for v in e.values)}))', ok
        if isinstance(e, (A.And, A.Or)):
            a, ok_a = self.scalar(e.left)
            b, ok_b = self.scalar(e.right)
            word = 'AND' if isinstance(e, A.And) else 'OR'
            # Python evaluates the right side only when the left does not decide
            ok = ok_a if ok_b is None else _and(ok_a, f'({a if word == "OR" else "NOT " + a} OR {ok_b})')
            return f'({a} {word} {b})', ok
        if isinstance(e, A.Not):
            v, ok = self.scalar(e.operand)
            return f'(NOT {v})', ok
        if isinstance(e, A.Cap):
            a, ok_a = self.scalar(e.value)
            b, ok_b = self.scalar(e.limit)
            return self.pick('LEAST', [a, b], e), _and(ok_a, ok_b)
        if isinstance(e, A.PerStep):
            return self.per_step(e)
        if isinstance(e, A.Schedule):
            idx, ok = self.scalar(e.index)
            return self.switch(ok, [(self.among(idx, en.years), en.value) for en in e.entries],
                               self.among(idx, [y for en in e.entries for y in en.years]), e)
        if isinstance(e, A.ByCategory):
            x, ok = self.scalar(e.subject)
            cats = ', '.join(string(en.category.text) for en in e.entries)
            return self.switch(ok, [(f'{x} = {string(en.category.text)}', en.value) for en in e.entries],
                               f'{x} IN ({cats})', e)
        if isinstance(e, A.Progressive):
            base, ok = self.scalar(e.base)
            guards = [ok]
            levels = []
            for st in e.steps:
                t, ok_t = self.scalar(st.threshold)
                a, ok_a = self.scalar(st.award)
                guards += [ok_t, ok_a]
                levels.append((self.cmp(base, '>=', t, e), a))
            award = self.case(list(reversed(levels)), e)
            reached = '(' + ' OR '.join(c for c, _a in levels) + ')'
            guards.append(reached)
            if e.received is None:
                return award, _and(*guards)
            rec, ok_r = self.scalar(e.received)
            guards.append(ok_r)
            diff = self.add(self.number(award, e), self.number(rec, e.received), '-', e)
            return self.pick('GREATEST', [diff, self.literal(Decimal(0))], e), _and(*guards)
        if isinstance(e, (A.MaxOf, A.MinOf)):
            vs = [self.scalar(x) for x in e.values]
            fn = 'GREATEST' if isinstance(e, A.MaxOf) else 'LEAST'
            return self.pick(fn, [v for v, _ok in vs], e), _and(*(ok for _v, ok in vs))
        raise SqlUnsupported(f'{type(e).__name__} 无法编译为 SQL')

    def input_kind(self, name: str) -> str:
        return self.inputs[name].type.kind

    def among(self, idx, years) -> str:
        """idx IN (years…), the years typed as idx is (an integer input: DECIMAL(13, 0))."""
        if isinstance(idx, N):
            return f'{idx} IN ({", ".join(cast(self.literal(Decimal(y)), idx.d, idx.s) for y in years)})'
        return f'{idx} IN ({", ".join(str(y) for y in years)})'

    def switch(self, ok: Optional[str], cases: list, covered: str, e) -> tuple[object, Optional[str]]:
        """A value chosen by the first condition that holds (a schedule's year, a category): not
        computable when no case covers the applicant or the chosen value is not computable."""
        whens, guards = [], []
        for cond, value in cases:
            v, ok_v = self.scalar(value)
            whens.append((cond, v))
            if ok_v is not None:
                guards.append(f'WHEN {cond} THEN {ok_v}')
        ok_all = _and(ok, covered, 'CASE ' + ' '.join(guards) + ' ELSE TRUE END' if guards else None)
        return self.case(whens, e), ok_all

    def scalar(self, e) -> tuple[str, Optional[str]]:
        v, ok = self.value(e)
        if isinstance(v, _Div):
            raise SqlUnsupported(self.where(e) + '：除以输入值的结果只能直接用于比较（如「增速 ≥ 10%」），'
                                 '在 SQL 中无法精确计算；请用 --engine python')
        return v, ok

    def where(self, e) -> str:
        return f'第 {e.span.line} 行' if getattr(e, 'span', None) else '政策中'

    def division(self, e: A.BinOp):
        a, ok_a = self.scalar(e.left)
        c = self.constant(e.right)
        if c is not None:
            inv = _exact_inverse(c)
            if c == 0:
                return a, FALSE              # a zero divisor: never computable
            if inv is not None:
                return self.mul(self.number(a, e.left), self.literal(inv), e), ok_a
        b, ok_b = self.scalar(e.right)
        a, b = self.number(a, e.left), self.number(b, e.right)
        return _Div(a, b), _and(ok_a, ok_b, self.cmp(b, '<>', self.literal(Decimal(0)), e))

    def compare(self, e: A.Compare):
        op = {'==': '=', '!=': '<>'}.get(e.op, e.op)
        a, ok_a = self.value(e.left)
        b, ok_b = self.value(e.right)
        if isinstance(a, _Div) and isinstance(b, _Div):
            raise SqlUnsupported(self.where(e) + '：比较两边都是除以输入值的商，无法精确编译为 SQL')
        if isinstance(b, _Div):                         # c op a/b  ⇔  a/b op' c
            a, b = b, a
            op = {'>': '<', '<': '>', '>=': '<=', '<=': '>='}.get(op, op)
        if isinstance(a, _Div):
            flipped = {'>': '<', '<': '>', '>=': '<=', '<=': '>='}.get(op, op)
            zero = self.literal(Decimal(0))
            prod = self.mul(self.number(b, e), a.den, e)
            text = (f'(CASE WHEN {self.cmp(a.den, ">", zero, e)} THEN {self.cmp(a.num, op, prod, e)} '
                    f'ELSE {self.cmp(a.num, flipped, prod, e)} END)')
            return text, _and(ok_a, ok_b)
        return f'({self.cmp(a, op, b, e)})', _and(ok_a, ok_b)

    def per_step(self, e: A.PerStep):
        base, ok_b = self.scalar(e.base)
        award, ok_a = self.scalar(e.award)
        step = self.constant(e.step)
        inv = None if step is None else _exact_inverse(step)
        if step == 0:
            return self.literal(Decimal(0)), FALSE
        if inv is None:
            raise SqlUnsupported(self.where(e) + '：「每…给予…」的步长不是常数或不能精确取倒数，无法精确编译为 SQL；'
                                 '请用 --engine python')
        base, award = self.number(base, e.base), self.number(award, e.award)
        q = self.mul(base, self.literal(inv), e)
        if e.full_steps:
            # whole steps, truncated toward zero as the runtime's floor_div does (Decimal //)
            d = max(q.d, 1)
            steps = N(f'(CASE WHEN {self.cmp(q, ">=", self.literal(Decimal(0)), e)} '
                      f'THEN CAST(FLOOR({q}) AS {decimal_type(d, 0)}) ELSE CAST(CEIL({q}) AS {decimal_type(d, 0)}) END)',
                      d, 0)
            return self.mul(steps, award, e), _and(ok_b, ok_a)
        return self.mul(q, award, e), _and(ok_b, ok_a)

    # ------------------------------------------------------------ amounts
    def amount(self, am) -> list[tuple[Optional[str], str, Optional[str]]]:
        """Branches (condition, outcome, amount SQL) tried in order; condition None: otherwise."""
        na = [(None, R.NOT_APPLICABLE, None)]
        if am is None:
            return [(None, R.NO_AMOUNT, None)]
        if isinstance(am, A.Tiers):
            out = []
            for t in am.tiers:
                cond, ok = self.scalar(t.condition)
                if ok is not None:
                    out.append((f'NOT ({ok})', R.NOT_APPLICABLE, None))
                out += [(_and(cond, c) if c else cond, o, v) for c, o, v in self.amount(t.amount)]
            return out + (self.amount(am.otherwise) if am.otherwise is not None else na)
        simple = {A.CaseByCase: R.CASE_BY_CASE, A.Deferred: R.DEFERRED, A.NonCash: R.NON_CASH,
                  A.NoAmount: R.NO_AMOUNT, A.ExplicitNA: R.NOT_APPLICABLE}
        if type(am) in simple:
            return [(None, simple[type(am)], None)]
        if isinstance(am, A.Ceiling):
            v, ok = self.scalar(am.value)
            return ([(f'NOT ({ok})', R.NOT_APPLICABLE, None)] if ok else []) + [(None, R.CEILING, v)]
        v, ok = self.scalar(am)
        rate = any(isinstance(n, A.BinOp) and n.op == '*' and 'percent' in (self.t(n.left), self.t(n.right))
                   for n in A.walk(am))
        kind = R.CEILING if self.maxima and rate else R.AMOUNT
        return ([(f'NOT ({ok})', R.NOT_APPLICABLE, None)] if ok else []) + [(None, kind, v)]

    def fen(self, v, e) -> str:
        """v rounded half up (away from zero) to the fen, as DECIMAL(38, 2); the item's upper
        bound (:attr:`bounds`) raised to v's."""
        v = self.number(v, e)
        name = getattr(getattr(e, 'name', None), 'text', None)
        if name is not None:
            self.bounds[name] = max(self.bounds.get(name, Decimal(0)), v.upper)
        if v.s > 2:
            self.fits(v.d + 1, v.s, e, '金额')
            return f'CAST(ROUND({v}, 2) AS {MONEY})'
        return f'CAST({v} AS {MONEY})'

    def firm_cap(self, am) -> str:
        """The applicant's cap (每家最高) as one SQL value, rounded to the fen; NULL where none applies."""
        branches = self.amount(am)
        if branches[0][0] is None:
            _c, o, v = branches[0]
            return f'ROUND({v}, 2)' if v is not None and o in (R.AMOUNT, R.CEILING) else 'NULL'
        parts = ['CASE']
        for cond, o, v in branches:
            value = f'ROUND({v}, 2)' if v is not None and o in (R.AMOUNT, R.CEILING) else 'NULL'
            parts.append(f' WHEN {cond} THEN {value}' if cond is not None else f' ELSE {value}')
            if cond is None:
                break
        else:
            parts.append(' ELSE NULL')
        return ''.join(parts) + ' END'

    def item(self, item: A.Item, valid: bool) -> tuple[str, str]:
        """(outcome SQL, amount SQL rounded half up to the fen) of one item."""
        if not valid:
            return str(CODES[R.NOT_APPLICABLE]), 'NULL'
        branches = []
        for cond in item.conditions:
            c, ok = self.scalar(cond)
            if ok is not None:
                branches.append((f'NOT ({ok})', R.NOT_APPLICABLE, None))
            branches.append((f'NOT ({c})', R.NOT_APPLICABLE, None))
        branches += self.amount(item.amount)
        if branches[0][0] is None:                      # unconditional
            _c, o, v = branches[0]
            return str(CODES[o]), 'NULL' if v is None else self.fen(v, item)
        outcome, amount = ['CASE'], ['CASE']
        for cond, o, v in branches:
            head = f' WHEN {cond} THEN' if cond is not None else ' ELSE'
            outcome.append(f'{head} {CODES[o]}')
            amount.append(f'{head} {"NULL" if v is None else self.fen(v, item)}')
            if cond is None:
                break
        else:
            outcome.append(f' ELSE {CODES[R.NOT_APPLICABLE]}')
        return ''.join(outcome) + ' END', ''.join(amount) + ' END'


def in_force(policy, date: _dt.date) -> bool:
    """Whether the policy is in force on ``date`` (its header's dates; the runtime's rule)."""
    meta = {k: policy.header_value(k) for k in ('issued', 'effective', 'expiry', 'duration')}
    return R._validity(meta, date)[0]


COMPACT_MONEY = 'DECIMAL(18, 2)'      # 64-bit: amounts below 10^16 元


def _compact_types(g: _Gen, names: list[str]) -> dict[str, str]:
    """{item: type of its 金额, '合计': type of the total}: DECIMAL(18, 2) where the item's amounts
    are bounded below 10^16 元 (its caps and constants, :attr:`_Gen.bounds`; an item without
    amounts is bounded by 0), else DECIMAL(38, 2); 合计 by the sum of the bounds."""
    limit = Decimal(10) ** 16
    bounds = {n: g.bounds.get(n, Decimal(0)) for n in names}
    types = {n: COMPACT_MONEY if b < limit else MONEY for n, b in bounds.items()}
    types['合计'] = COMPACT_MONEY if sum(bounds.values(), Decimal(0)) < limit else MONEY
    return types


def compact_types(checked: Checked, date: _dt.date) -> dict[str, str]:
    """The compact layout's amount types (:func:`_compact_types`) of the policy on ``date``."""
    g = _Gen(checked)
    valid = in_force(checked.policy, date)
    names = item_names(checked)
    for _c, it in checked.policy.items():
        try:
            g.item(it, valid)
        except SqlUnsupported:      # (the per-row engine's layout) no bound known: the full width
            g.bounds[it.name.text] = Decimal(10) ** MAX_DIGITS
    return _compact_types(g, names)


def item_names(checked: Checked) -> list[str]:
    return [it.name.text for _c, it in checked.policy.items()]


def output_columns(checked: Checked, id_column: Optional[str] = None) -> list[str]:
    cols = ['行号'] + ([id_column] if id_column else [])
    for n in item_names(checked):
        cols += [f'{n}.结果', f'{n}.金额']
    return cols + ['合计']


def policy_sql(checked: Checked, date: _dt.date, facts_table: str = 'facts',
               id_column: Optional[str] = None, ordered: bool = True, allocation: bool = False,
               compact: bool = False) -> str:
    """The query: from ``facts_table`` (typed columns, NULL where not given) to one result row per
    applicant, ordered by 行号 (``ordered=False``: in the table's order, where the engine keeps it).
    ``allocation``: the columns of `polc eval --out` for a policy with quotas or pools (合计 as
    应得合计（削减前）, then 实发合计), plus a column ``项.分配金额`` per item with a quota or pool
    (window functions over the whole table; compiler/tables/allocation.py), ordered by 行号.
    ``compact``: the outcomes as their codes and the amounts in the narrowest type their bounds
    allow (:func:`compact_types`; `polc eval --compact`)."""
    if allocation:
        limited = [(it.name.text, it.quota, it.pool.value if it.pool is not None else None, it.allocation)
                   for _c, it in checked.policy.items() if it.quota is not None or it.pool is not None]
        inner = policy_sql(checked, date, facts_table, id_column, ordered=False)
        try:
            return allocation_sql(inner, output_columns(checked, id_column), limited, quote, paid=True)
        except ValueError as exc:
            raise SqlUnsupported(str(exc) + '；请用 polc eval --allocation') from None
    g = _Gen(checked)
    valid = in_force(checked.policy, date)
    items = [it for _c, it in checked.policy.items()]
    names = [it.name.text for it in items]
    pcol = {n: f'p{i}' for i, n in enumerate(names)}          # the value an item contributes
    ocol = {n: f'o{i}' for i, n in enumerate(names)}
    # 1. facts with defaults
    cols = ['"行号"'] + ([quote(id_column)] if id_column else [])
    for d in checked.policy.inputs:
        name = quote(d.name.text)
        value = name
        if d.default is not None:
            v, _ok = g.scalar(d.default)
            value = f'COALESCE({name}, {v})'
        if d.type.kind in INPUT_TYPES:        # numbers in their exact type (N): DECIMAL(d + s, s)
            value = f'CAST({value} AS {decimal_type(*INPUT_TYPES[d.type.kind])})'
        cols.append(value if value == name else f'{value} AS {name}')
    ctes = [f'f AS (SELECT {", ".join(cols)} FROM {facts_table})']
    # 2. items: outcome and amount rounded half up to the fen, never below 0
    keep = ['"行号"'] + ([quote(id_column)] if id_column else [])
    sel = list(keep)
    for it in items:
        o, a = g.item(it, valid)
        n = it.name.text
        sel.append(f'{o} AS {ocol[n]}')
        sel.append(f'CAST(GREATEST({a}, 0) AS {MONEY}) AS a_{pcol[n]}')
        if it.firm_cap is not None and valid:          # 每家最高: flat rows are one record each
            sel.append(f'CAST({g.firm_cap(it.firm_cap)} AS {MONEY}) AS c_{pcol[n]}')
    ctes.append(f'i AS (SELECT {", ".join(sel)} FROM f)')
    capped = [n for n, it in zip(names, items) if it.firm_cap is not None and valid]
    sel = list(keep) + [ocol[n] for n in names] + [f'c_{pcol[n]}' for n in capped]
    for n in names:
        sel.append(f"CASE WHEN {ocol[n]} IN ({CODES[R.AMOUNT]}, {CODES[R.CEILING]}) THEN COALESCE(a_{pcol[n]}, 0) "
                   f"ELSE CAST(0 AS {MONEY}) END AS {pcol[n]}")
    ctes.append(f'v0 AS (SELECT {", ".join(sel)} FROM i)')
    # 3. groups, one step each, in the runtime's order; 4. the result (compiler/sql/groups.py)
    return groups_and_result(g, checked.policy, valid, ctes, keep, names, pcol, ocol, capped, ordered,
                             types=_compact_types(g, names) if compact else None)
