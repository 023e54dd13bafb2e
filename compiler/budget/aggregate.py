"""The budget report's numbers: a results table (``polc eval --out`` columns, from either engine)
summed with DuckDB into a :class:`Report` — exact DECIMALs, the headline after quotas and pools
with the demand before them beside it, totals per item, kind, 牵头单位 and 责任单位."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional, Union

import attrs

from polc.dsl import ast as A

from polc.compiler.python import runtime as R
from polc.compiler.tables.allocation import Grant, Shared, allocate, shared
from polc.compiler.tables.io import total_column
from polc.compiler.sql.generate import quote, string

ZERO = Decimal(0)
# per-applicant totals are counted in these bins (元; upper bound inclusive)
BINS = ((Decimal(0), Decimal(0)), (Decimal('0.01'), Decimal(10 ** 5)), (Decimal(10 ** 5), Decimal(10 ** 6)),
        (Decimal(10 ** 6), Decimal(10 ** 7)), (Decimal(10 ** 7), Decimal(10 ** 8)), (Decimal(10 ** 8), None))
BIN_LABELS = ('0元', '0–10万元', '10万–100万元', '100万–1000万元', '1000万–1亿元', '1亿元以上')
BIN_LABELS_ASCII = ('0', '0-100k', '100k-1M', '1M-10M', '10M-100M', '>100M')     # PNG without a CJK font


class ReportError(Exception):
    """A report that cannot be made (message in Chinese)."""


@attrs.frozen
class ItemLine:
    clause: str
    name: str
    kind: str
    cap: Optional[Decimal]         # a constant cap on the item's amount, if it has one
    recipients: int                # outcome amount and paid > 0
    total: Decimal                 # paid, outcome amount
    at_cap: Optional[int]          # recipients whose amount equals the cap
    ceilings: int                  # outcome ceiling (最高可获)
    ceiling_total: Decimal
    not_applicable: int
    paid: Optional[Decimal] = None  # after the item's quota or pool (None: = total, nothing cut)
    lead: tuple[str, ...] = ()      # 牵头单位
    units: tuple[str, ...] = ()     # 责任单位
    record_kind: str = ''           # a per-record item on a table with records: the kind (产品 …)
    record_recipients: Optional[int] = None     # … the records that got an amount from it (outcome 金额)
    record_ceilings: Optional[int] = None       # … and those that got a ceiling (最高可获)

    @property
    def after_cuts(self) -> Decimal:
        return self.total if self.paid is None else self.paid


@attrs.frozen
class Cut:
    """One applicant whose claim a quota or pool cut (granted < claimed), and why."""
    row: int
    ident: Optional[str]
    claimed: Decimal
    granted: Decimal
    reason: str


@attrs.frozen
class SharedLine:
    """How one item's quota (每年名额) or pool (每年总额) was shared over the table."""
    name: str
    quota: Optional[int]
    pool: Optional[Decimal]
    rule: str
    shared: Shared                  # claims, recipients, claimed, granted, cut
    cuts: tuple[Cut, ...]           # the first ``top`` cut claims, in table order
    amount_cut: Decimal = ZERO      # taken off the claims whose outcome is an amount (not a ceiling)


@attrs.frozen
class Report:
    policy: str
    date: str
    applicants: int
    total: Decimal
    ceiling_total: Decimal
    items: tuple[ItemLine, ...]
    kinds: tuple[tuple[str, Decimal], ...]
    shared: tuple[SharedLine, ...]
    histogram: tuple[tuple[str, int], ...]
    top: tuple[tuple[int, Optional[str], Decimal, str, Decimal], ...]   # row, id, total, item, amount
    id_column: Optional[str] = None
    paid: Optional[Decimal] = None  # the grand total after quotas and pools (None: = total)
    # (heading, rows of (name, items, before cuts, after cuts)) for 类别, 牵头单位, 责任单位
    breakdowns: tuple = ()
    # tables with records: (applicants with an amount or ceiling > 0, ((kind, records with one), …))
    recipients: Optional[tuple] = None

    @property
    def recipients_text(self) -> str:
        """获奖申请人 N 家，获奖产品 M 个 (empty without records)."""
        if self.recipients is None:
            return ''
        firms, kinds = self.recipients
        return '，'.join([f'获奖申请人 {firms:,} 家'] + [f'获奖{k} {n:,} 个' for k, n in kinds])

    @property
    def after_cuts(self) -> Decimal:
        return self.total if self.paid is None else self.paid


def breakdown(items, key) -> tuple[tuple[str, int, Decimal, Decimal], ...]:
    """(name, number of items, sum before cuts, sum after cuts) for each value of ``key(item)``
    (a tuple: an item with several 责任单位 counts in full under each), in first-seen order;
    items without one go under 未注明."""
    rows: dict = {}
    for i in items:
        for name in key(i) or ('未注明',):
            n, before, after = rows.get(name, (0, ZERO, ZERO))
            rows[name] = (n + 1, before + i.total, after + i.after_cuts)
    return tuple((name, n, b, a) for name, (n, b, a) in rows.items())


def item_cap(it) -> Optional[Decimal]:
    """An item's constant cap: in its amount, else its applicant's cap (每家最高 <constant>), which is
    what bounds a row of a table (one applicant, one record)."""
    cap = constant_cap(it.amount)
    if cap is None and isinstance(it.firm_cap, A.Money):
        cap = Decimal(it.firm_cap.value)
    elif cap is not None and isinstance(it.firm_cap, A.Money):
        cap = min(cap, Decimal(it.firm_cap.value))
    return cap


def constant_cap(amount) -> Optional[Decimal]:
    """The cap of an item's amount when it is written as 「… 最高 <constant>」 (also inside 最高可获)."""
    if isinstance(amount, A.Ceiling):
        amount = amount.value
    if isinstance(amount, A.Cap) and isinstance(amount.limit, A.Money):
        return Decimal(amount.limit.value)
    return None


def aggregate(compiled, results_path: str, allocations: dict, date: str, id_column: Optional[str] = None,
              top: int = 10, recipients: Optional[tuple] = None) -> Report:
    """Sum a results table (``polc eval --out`` columns: 行号, the id column, N.结果 and N.金额 for
    each item, 合计; CSV or Parquet, from either engine) into a report.

    ``allocations`` maps each item with a quota or pool to how it was shared: a :class:`Shared`
    (``BatchSummary.allocations``) or the list of :class:`Grant` itself.  The reasons of the cut
    claims are taken from the Grants; given only a Shared, the claims are read back from the
    results table and shared again by the same rule (:func:`allocate`).  A table with records
    (``--records``) passes the Grants (one claim per record) and ``recipients``: (applicants with an
    amount > 0, ((kind, records with an amount > 0), …)); the per-record items' columns
    ``项.获奖<kind>数`` are summed into each item's record recipients."""
    try:
        import duckdb
    except ImportError:
        raise ReportError("polc report 需要 duckdb：pip install 'polc[batch]'") from None
    con = duckdb.connect()
    reader = 'read_parquet' if str(results_path).endswith('.parquet') else 'read_csv'
    extra = ', all_varchar = true, header = true' if reader == 'read_csv' else ''
    con.execute(f'CREATE VIEW r AS SELECT * FROM {reader}({string(str(results_path))}{extra})')
    before = total_column(con.sql('SELECT * FROM r LIMIT 0').columns)    # 合计 or 应得合计（削减前）
    items = [(c, it) for c, it in compiled.analysis.checked.policy.items()]
    infos = {info['name']: info for info, _f in compiled.namespace['ITEMS']}

    def money(col):
        return f"CAST(NULLIF(CAST({quote(col)} AS VARCHAR), '') AS DECIMAL(38, 2))"

    lines, kinds = [], {}
    parts = ['count(*)', f"COALESCE(SUM({money(before)}), 0)"]
    for _c, it in items:
        o, a = quote(it.name.text + '.结果'), money(it.name.text + '.金额')
        cap = item_cap(it)
        parts += [f"count(*) FILTER (WHERE {o} = '{R.AMOUNT}' AND {a} > 0)",
                  f"COALESCE(SUM({a}) FILTER (WHERE {o} = '{R.AMOUNT}'), 0)",
                  f"count(*) FILTER (WHERE {o} IN ('{R.AMOUNT}', '{R.CEILING}') AND {a} = {cap})"
                  if cap is not None else 'NULL',
                  f"count(*) FILTER (WHERE {o} = '{R.CEILING}')",
                  f"COALESCE(SUM({a}) FILTER (WHERE {o} = '{R.CEILING}'), 0)",
                  f"count(*) FILTER (WHERE {o} = '{R.NOT_APPLICABLE}')"]
    columns = {d[0] for d in con.execute('SELECT * FROM r LIMIT 0').description}
    counted = []
    for _c, it in items:
        kind = infos[it.name.text].get('per_record')
        col = f'{it.name.text}.获奖{kind}数' if kind else None
        if col in columns:
            counted.append((it.name.text, kind))
            o = quote(it.name.text + '.结果')
            for outcome in (R.AMOUNT, R.CEILING):
                parts.append(f"COALESCE(SUM(CAST(NULLIF(CAST({quote(col)} AS VARCHAR), '') AS BIGINT)) "
                             f"FILTER (WHERE {o} = '{outcome}'), 0)")
    row = con.execute(f'SELECT {", ".join(parts)} FROM r').fetchone()
    sums = row[2 + 6 * len(items):]
    record_counts = {n: (sums[2 * j], sums[2 * j + 1]) for j, (n, _k) in enumerate(counted)}
    kinds_of = dict(counted)
    applicants, total = row[0], Decimal(row[1])
    ceiling_total = ZERO
    for k, (c, it) in enumerate(items):
        n, s, at_cap, nc, sc, na = row[2 + 6 * k: 8 + 6 * k]
        info = infos[it.name.text]
        line = ItemLine(c.number, it.name.text, info['kind'], item_cap(it), n, Decimal(s), at_cap,
                        nc, Decimal(sc), na, None, tuple(info.get('lead') or ()), tuple(info.get('units') or ()),
                        kinds_of.get(it.name.text, ''), *record_counts.get(it.name.text, (None, None)))
        lines.append(line)
        kinds[info['kind']] = kinds.get(info['kind'], ZERO) + line.total
        ceiling_total += line.ceiling_total
    # the distribution of per-applicant totals
    t = money(before)
    cases = []
    for lo, hi in BINS:
        if hi == lo:
            cases.append(f'count(*) FILTER (WHERE {t} = {lo})')
        elif hi is None:
            cases.append(f'count(*) FILTER (WHERE {t} > {lo})')
        else:
            low = f'{t} >= {lo}' if lo == Decimal('0.01') else f'{t} > {lo}'
            cases.append(f'count(*) FILTER (WHERE {low} AND {t} <= {hi})')
    counts = con.execute(f'SELECT {", ".join(cases)} FROM r').fetchone()
    # the top recipients, each with its largest item
    ident = f', CAST({quote(id_column)} AS VARCHAR)' if id_column else ', NULL'
    amounts = ', '.join(f"CASE WHEN {quote(it.name.text + '.结果')} = '{R.AMOUNT}' THEN "
                        f"{money(it.name.text + '.金额')} END" for _c, it in items)
    best = []
    # (行号 as a number: a CSV read as text would put row 10 before row 2)
    for r in con.execute(f'SELECT "行号"{ident}, {t}, {amounts or "NULL"} FROM r WHERE {t} > 0 '
                         f'ORDER BY {t} DESC, CAST("行号" AS BIGINT) LIMIT {int(top)}').fetchall():
        values = [(Decimal(v), it.name.text) for v, (_c, it) in zip(r[3:], items) if v is not None]
        amount, name = max(values, key=lambda x: x[0]) if values else (ZERO, '')
        name = next((n for v, n in values if v == amount), name)        # first of equals
        best.append((int(r[0]), r[1], Decimal(r[2]), name, amount))
    shared_lines = tuple(_shared_line(con, money, infos[name], given, id_column, top)
                         for name, given in allocations.items())
    cut = {sl.name: sl.amount_cut for sl in shared_lines}
    lines = [attrs.evolve(i, paid=i.total - cut[i.name]) if i.name in cut else i for i in lines]
    paid = sum((i.after_cuts for i in lines), ZERO)
    breakdowns = (('类别', breakdown(lines, lambda i: (i.kind,))), ('牵头单位', breakdown(lines, lambda i: i.lead)),
                  ('责任单位', breakdown(lines, lambda i: i.units)))
    return Report(compiled.name, date, applicants, total, ceiling_total, tuple(lines), tuple(kinds.items()),
                  shared_lines, tuple(zip(BIN_LABELS, counts)), tuple(best), id_column, paid, breakdowns,
                  recipients)


def _shared_line(con, money, info: dict, given: Union[Shared, list[Grant]], id_column: Optional[str],
                 top: int) -> SharedLine:
    name = info['name']
    quota = info.get('quota')
    pool = Decimal(info['pool']) if info.get('pool') else None
    rule = info.get('allocation') or '按申请顺序'
    amount = money(name + '.金额')
    ident = f', CAST({quote(id_column)} AS VARCHAR)' if id_column else ', NULL'
    # the claims as both engines make them: every amount > 0 of the item (an amount or a
    # ceiling), in table order
    outcome = quote(name + '.结果')
    rows = con.execute(f'SELECT CAST("行号" AS BIGINT), {amount}{ident}, {outcome} = \'{R.AMOUNT}\' FROM r '
                       f'WHERE {amount} > 0 ORDER BY CAST("行号" AS BIGINT)').fetchall()
    idents = {int(r[0]): r[2] for r in rows}
    is_amount = {int(r[0]): bool(r[3]) for r in rows}
    if isinstance(given, Shared):
        grants = allocate([(int(r[0]), Decimal(r[1])) for r in rows], quota, pool, info.get('allocation', ''))
        if shared(grants) != given:
            raise RuntimeError(f'{name}：结果表中的申请与分配摘要不一致（{shared(grants)} ≠ {given}）')
        numbers = given
    else:
        grants, numbers = list(given), shared(list(given))
    cuts = tuple(Cut(g.row, idents.get(g.row), g.claimed, g.granted, g.reason)
                 for g in grants if g.granted < g.claimed)[:top]
    amount_cut = sum((g.claimed - g.granted for g in grants if is_amount.get(g.row)), ZERO)
    return SharedLine(name, quota, pool, rule, numbers, cuts, amount_cut)


ITEM_CHART = '各项应得金额合计'
HISTOGRAM_CHART = '申请人数（按每人应得合计分段）'


def _item_bars(rep: Report) -> list[tuple[str, Decimal]]:
    """Each item's amount after its quota or pool (what the budget pays), items with one only."""
    return [(f'{i.clause} {i.name}', i.after_cuts) for i in rep.items if i.after_cuts > 0]


