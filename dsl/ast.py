"""The abstract syntax tree of a .pol policy.

Every node is a frozen attrs class.  The source span is a field excluded from
equality and hashing, so two trees that differ only in layout compare equal
(the formatter relies on this: parse(fmt(x)) == parse(x)).
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Optional, Union

import attrs


@attrs.frozen
class Span:
    line: int
    col: int
    end_line: int
    end_col: int
    start: int = 0      # character offsets in the source
    end: int = 0


def _span():
    return attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Name:
    text: str
    span: Optional[Span] = _span()


# ------------------------------------------------------------------ expressions
@attrs.frozen
class Money:
    value: Decimal          # in 元
    text: str               # as written, e.g. 100万元
    span: Optional[Span] = _span()


@attrs.frozen
class Percent:
    value: Decimal          # a fraction: 30% -> Decimal('0.30')
    text: str
    span: Optional[Span] = _span()


@attrs.frozen
class Number:
    value: Decimal
    text: str
    is_int: bool
    span: Optional[Span] = _span()


@attrs.frozen
class DateLit:
    value: _dt.date
    span: Optional[Span] = _span()


@attrs.frozen
class Bool:
    value: bool
    span: Optional[Span] = _span()


@attrs.frozen
class Ref:
    name: str
    span: Optional[Span] = _span()


@attrs.frozen
class BinOp:
    op: str                 # '+', '-', '*', '/'
    left: 'Expr'
    right: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class Neg:
    operand: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class Compare:
    op: str                 # '>=', '<=', '>', '<', '==', '!='
    left: 'Expr'
    right: 'Expr'
    word: str               # as written: '≥', '达到', '不满' ...
    span: Optional[Span] = _span()


@attrs.frozen
class Bound:
    value: 'Expr'
    inclusive: bool
    explicit: bool          # （含）/（不含） written in the text
    span: Optional[Span] = _span()


@attrs.frozen
class Range:
    """``x 在 a（含） 至 b（不含）`` or ``x 在 a 以上`` (one side open)."""
    subject: 'Expr'
    low: Optional[Bound]
    high: Optional[Bound]
    word: str               # 以上 / 以下 / 以内 / 至
    span: Optional[Span] = _span()


@attrs.frozen
class Is:
    subject: 'Expr'
    value: Name
    span: Optional[Span] = _span()


@attrs.frozen
class In:
    subject: 'Expr'
    values: tuple[Name, ...]
    span: Optional[Span] = _span()


@attrs.frozen
class And:
    left: 'Expr'
    right: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class Or:
    left: 'Expr'
    right: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class Not:
    operand: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class Cap:
    """``value 最高 limit``: the smaller of the two."""
    value: 'Expr'
    limit: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class CumulativeCap:
    """``value 累计最高 limit 已获 received``: at most what is left of a cap over years
    (单个主体累计最高可给予200万元): the smaller of value and max(limit − received, 0)."""
    value: 'Expr'
    limit: 'Expr'
    received: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class Matching:
    """``base 按 1:0.5 配套``: matching funds in a ratio to another amount (base × 0.5/1)."""
    base: 'Expr'
    left: Decimal
    right: Decimal
    text: str               # as written: 1:0.5
    span: Optional[Span] = _span()


@attrs.frozen
class PerStep:
    """``base 每满 step 给予 award`` (full steps) or ``base 每 step 给予 award`` (pro rata)."""
    base: 'Expr'
    step: 'Expr'
    award: 'Expr'
    full_steps: bool
    span: Optional[Span] = _span()


@attrs.frozen
class ScheduleEntry:
    label: str              # 第一年 / 前三年
    years: tuple[int, ...]  # the years it covers
    value: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class Schedule:
    """``按年(享受年度: 第一年 50%, 第二年 40%, 第三年 30%)``."""
    index: 'Expr'
    entries: tuple[ScheduleEntry, ...]
    span: Optional[Span] = _span()


@attrs.frozen
class ProgressiveStep:
    threshold: 'Expr'
    award: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class Progressive:
    """晋级补差: the award of the highest threshold reached, minus what was received."""
    base: 'Expr'
    steps: tuple[ProgressiveStep, ...]
    received: Optional['Expr']
    span: Optional[Span] = _span()


@attrs.frozen
class CategoryEntry:
    category: Name
    value: 'Expr'
    span: Optional[Span] = _span()


@attrs.frozen
class ByCategory:
    """分别: one value per enumeration value."""
    subject: 'Expr'
    entries: tuple[CategoryEntry, ...]
    span: Optional[Span] = _span()


@attrs.frozen
class MaxOf:
    values: tuple['Expr', ...]
    span: Optional[Span] = _span()


@attrs.frozen
class MinOf:
    values: tuple['Expr', ...]
    span: Optional[Span] = _span()


Expr = Union[Money, Percent, Number, DateLit, Bool, Ref, BinOp, Neg, Compare, Range, Is, In,
             And, Or, Not, Cap, CumulativeCap, Matching, PerStep, Schedule, Progressive, ByCategory,
             MaxOf, MinOf]


# ------------------------------------------------------------------ amounts (outcomes)
@attrs.frozen
class Ceiling:
    """``最高 X``: the applicant may get up to X; the exact amount is set at review."""
    value: Expr
    span: Optional[Span] = _span()


@attrs.frozen
class Tier:
    condition: Expr
    amount: 'Amount'
    span: Optional[Span] = _span()


@attrs.frozen
class Tiers:
    tiers: tuple[Tier, ...]
    otherwise: Optional['Amount']
    span: Optional[Span] = _span()


@attrs.frozen
class CaseByCase:
    span: Optional[Span] = _span()


@attrs.frozen
class Deferred:
    target: str
    span: Optional[Span] = _span()


@attrs.frozen
class NonCash:
    benefit: str
    span: Optional[Span] = _span()


@attrs.frozen
class NoAmount:
    note: str
    span: Optional[Span] = _span()


@attrs.frozen
class ExplicitNA:
    note: str
    span: Optional[Span] = _span()


Amount = Union[Expr, Ceiling, Tiers, CaseByCase, Deferred, NonCash, NoAmount, ExplicitNA]


# ------------------------------------------------------------------ declarations
@attrs.frozen
class HeaderField:
    key: str                # name, issuer, docno, issued, effective, expiry, duration,
    #                         stats_start, principle, rates_are_maxima, status,
    #                         shared_units, source, reading
    value: object
    span: Optional[Span] = _span()


@attrs.frozen
class TypeSpec:
    kind: str               # money, percent, int, bool, date, enum
    values: tuple[Name, ...] = ()
    span: Optional[Span] = _span()


@attrs.frozen
class InputDecl:
    name: Name
    type: TypeSpec
    description: str
    default: Optional[Expr]
    record: str = ''        # the record kind (项目 / 产品 …) this input belongs to; '' = the applicant's
    span: Optional[Span] = _span()


@attrs.frozen
class RecordDecl:
    """``记录 产品 "说明"``: a kind of record an applicant may hold several of, with its own inputs."""
    name: Name
    description: str
    span: Optional[Span] = _span()


@attrs.frozen
class Define:
    name: Name
    expr: Expr
    description: str
    span: Optional[Span] = _span()


@attrs.frozen
class Item:
    name: Name
    kind: str               # 补助 / 奖励 / 算力券 ... ('' if not given)
    source: tuple[str, ...]
    readings: tuple[str, ...]
    conditions: tuple[Expr, ...]
    amount: Optional[Amount]
    quota: Optional[int]
    pool: Optional[Money]
    lead: tuple[str, ...] = ()      # departments of this item, when they differ from the clause's
    units: tuple[str, ...] = ()
    allocation: str = ''            # how a quota or pool is shared: 按金额 / 按申请顺序 / 按比例
    per_record: str = ''            # 每个 产品: computed once per record of this kind, then summed
    firm_cap: Optional['Amount'] = None   # 每家（每年）最高: a cap on the applicant's sum over records
    firm_cap_word: str = ''         # as written: 每家最高 / 每家每年最高
    span: Optional[Span] = _span()


@attrs.frozen
class Clause:
    number: str             # as written: （二） / 二、 / 2.
    title: str
    lead: tuple[str, ...]
    units: tuple[str, ...]
    source: tuple[str, ...]
    readings: tuple[str, ...]
    items: tuple[Item, ...]
    conditions: tuple['Expr', ...] = ()     # 条件 written once for every item of the clause
    span: Optional[Span] = _span()


@attrs.frozen
class Group:
    name: Name
    mode: str               # 'highest' (就高) or 'sum_cap' (合计…最高)
    members: tuple[Name, ...]
    cap: Optional[Expr]
    per_record: str = ''    # 就高 … 每个 项目: the highest per record, not per applicant
    span: Optional[Span] = _span()


@attrs.frozen
class Expectation:
    target: Name
    kind: str               # amount, ceiling, not_applicable, case_by_case, deferred,
    #                         non_cash, no_amount, set_aside
    value: Optional[Expr]
    span: Optional[Span] = _span()


@attrs.frozen
class Assignment:
    name: Name
    value: Expr
    span: Optional[Span] = _span()


@attrs.frozen
class Case:
    title: str
    date: Optional[DateLit]
    inputs: tuple[Assignment, ...]
    expects: tuple[Expectation, ...]
    records: tuple['RecordFacts', ...] = ()
    span: Optional[Span] = _span()


@attrs.frozen
class RecordFacts:
    """One record in a case: ``产品 "A"：年销售额 = 3500万元，…``."""
    kind: Name
    label: str
    inputs: tuple[Assignment, ...]
    span: Optional[Span] = _span()


@attrs.frozen
class Guarantee:
    """保证：a bound on an item, a group or the total (合计), or monotonicity in an input."""
    title: str
    target: Optional[Name]       # None: the total (合计)
    kind: str                    # 'bound' or 'monotone'
    op: str                      # '<=', '>=', '<', '>', '==' (bound)
    word: str                    # as written: 不超过 / ≤ …
    bound: Optional['Expr']
    input: Optional[Name]        # monotone in this input
    span: Optional[Span] = _span()


@attrs.frozen
class Policy:
    header: tuple[HeaderField, ...]
    inputs: tuple[InputDecl, ...]
    defines: tuple[Define, ...]
    clauses: tuple[Clause, ...]
    groups: tuple[Group, ...]
    cases: tuple[Case, ...]
    guarantees: tuple[Guarantee, ...] = ()
    records: tuple[RecordDecl, ...] = ()
    span: Optional[Span] = _span()

    def header_value(self, key: str, default=None):
        """The first value given for a header key."""
        for f in self.header:
            if f.key == key:
                return f.value
        return default

    def header_values(self, key: str) -> list:
        return [f.value for f in self.header if f.key == key]

    def record_inputs(self, kind: str) -> list:
        return [d for d in self.inputs if d.record == kind]

    def items(self):
        """(clause, item) pairs in written order."""
        for c in self.clauses:
            for it in c.items:
                yield c, it


_FIELDS: dict = {}


def _field_names(cls) -> tuple:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in attrs.fields(cls) if f.name != 'span') if attrs.has(cls) else ()
        _FIELDS[cls] = names
    return names


def children(node) -> list:
    """Direct child nodes of an AST node (for generic walks)."""
    out = []
    for name in _field_names(type(node)):
        v = getattr(node, name)
        if type(v) is tuple:
            out.extend(x for x in v if _field_names(type(x)) or attrs.has(type(x)))
        elif _field_names(type(v)) or attrs.has(type(v)):
            out.append(v)
    return out


def walk(node):
    """Pre-order iteration over a node and all nodes below it (iterative, no recursion limit)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def rebuild(node, fn):
    """``node`` rebuilt bottom-up: every node (and tuple of nodes) below it first, then ``fn`` on the
    node itself; a node none of whose parts changed is kept as it is (by identity), so an unchanged
    tree costs no copies.  Recursion depth follows the tree (analysis runs with a deep stack).
    Used by the passes that rewrite a policy: spelling (script.py), desugaring, mutation."""
    if isinstance(node, tuple):
        items = tuple(rebuild(x, fn) for x in node)
        return node if all(a is b for a, b in zip(items, node)) else items
    if not attrs.has(type(node)):
        return node
    changes = {}
    for f in attrs.fields(type(node)):
        if f.name == 'span':
            continue
        v = getattr(node, f.name)
        if isinstance(v, tuple) or attrs.has(type(v)):
            nv = rebuild(v, fn)
            if nv is not v:
                changes[f.name] = nv
    return fn(attrs.evolve(node, **changes) if changes else node)
