"""The policy as one SQL query over an applicants table joined to a table per record kind (一个申请人、
多个项目、产品、活动): the same result columns and numbers as the per-row engine
(compiler/tables/records.py, which calls the runtime's :func:`evaluate_records`).

Tables (typed, as ``polc prepare`` writes them): the applicants table has 行号, the id column and one
column per input of the applicant (and of every record kind *not* given as a table: such a kind is
one record per applicant, as with flat facts); each record table has 行号 (the record's row in its
own table; it orders an applicant's records), the id column (the applicant's id) and one column per
input of its kind.

Steps, each a ``WITH`` step, mirroring runtime_records:
1. per record: the applicant's facts joined to the record's; each per-record item's outcome and
   amount (rounded half up to the fen, never below 0), and the applicant's cap (每家最高);
2. 就高 per record (the highest member keeps its amount, first of equals);
3. the item's quota inside one applicant (每年名额 counts records: the highest amounts first, then
   the records' order), by ``ROW_NUMBER()`` over the applicant's records;
4. per applicant (``GROUP BY``): the outcome (金额 if any record has an amount, else 最高可获 if any
   has a ceiling, else the records' common outcome, else 不适用; no record: 不适用), the sum, cut by
   the cap;
5. the applicant-level groups as in the flat query (compiler/sql/groups.py), a 就高 per record group
   being the sum of what is left of its members; and per per-record item the number of records that
   got a part of the applicant's final amount (``项.获奖<kind>数``: the parts are taken in the
   records' order, as the per-row engine does).
"""
from __future__ import annotations

import datetime as _dt

from polc.dsl.checks import Checked

from polc.compiler.python import runtime as R
from polc.compiler.sql.basics import CODES, MONEY, SqlUnsupported, quote, string
from polc.compiler.sql.decimals import INPUT_TYPES, decimal_type
from polc.compiler.sql.generate import _Gen, in_force
from polc.compiler.sql.groups import groups_and_result

RECORD_ROW = '记录行号'


def _typed(g, d, source: str) -> str:
    """An input column with its default, in its exact type (as the flat query's first step)."""
    name = quote(d.name.text)
    value = f'{source}.{name}'
    if d.default is not None:
        v, _ok = g.scalar(d.default)
        value = f'COALESCE({value}, {v})'
    if d.type.kind in INPUT_TYPES:
        value = f'CAST({value} AS {decimal_type(*INPUT_TYPES[d.type.kind])})'
    return f'{value} AS {name}'


def count_column(item: str, kind: str) -> str:
    return f'{item}.获奖{kind}数'


def records_sql(checked: Checked, date: _dt.date, facts_table: str, record_tables: dict, id_column: str,
                ordered: bool = True) -> str:
    """The query: ``facts_table`` (applicants) and ``record_tables`` ({kind: table}) joined by
    ``id_column`` to one result row per applicant: 行号, the id, per item 结果 and 金额 (and, for a
    per-record item of a kind given as a table, ``项.获奖<kind>数``), 合计."""
    return records_queries(checked, date, facts_table, record_tables, id_column, ordered)[0]


def records_queries(checked: Checked, date: _dt.date, facts_table: str, record_tables: dict, id_column: str,
                    ordered: bool = True) -> tuple[str, dict]:
    """(the applicants' query of :func:`records_sql`, {kind: the records' query}): one row per record of
    a kind given as a table, ordered by the applicant's 行号 and the record's: 行号, 记录行号 and per
    per-record item of the kind its 结果, 计算金额 (the record's own amount) and 金额 (the record's part of
    the applicant's final amount)."""
    ctes, select, per_record = records_parts(checked, date, facts_table, record_tables, id_column, ordered)
    head = 'WITH ' + ',\n'.join(ctes) + '\n'
    return head + select, {k: head + q for k, q in per_record.items()}


def records_parts(checked: Checked, date: _dt.date, facts_table: str, record_tables: dict, id_column: str,
                  ordered: bool = True) -> tuple[list, str, dict]:
    """The queries of :func:`records_queries` as (their shared ``WITH`` steps, the applicants' SELECT,
    {kind: the records' SELECT})."""
    if not id_column:
        raise SqlUnsupported('记录表按编号列与申请人表关联：需要 --id-column')
    p = checked.policy
    kinds = {r.name.text for r in p.records}
    for kind in record_tables:
        if kind not in kinds:
            raise SqlUnsupported(f'政策没有声明记录「{kind}」')
    g = _Gen(checked)
    valid = in_force(p, date)
    items = [it for _c, it in p.items()]
    names = [it.name.text for it in items]
    pcol = {n: f'p{i}' for i, n in enumerate(names)}
    ocol = {n: f'o{i}' for i, n in enumerate(names)}
    listed_inputs = {d.name.text for k in record_tables for d in p.record_inputs(k)}
    own = [d for d in p.inputs if d.name.text not in listed_inputs]
    idq = quote(id_column)
    keep = ['"行号"', idq]
    ctes = [f'f AS (SELECT a."行号", CAST(a.{idq} AS VARCHAR) AS {idq}'
            + ''.join(', ' + _typed(g, d, 'a') for d in own) + f' FROM {facts_table} AS a)']
    per_kind: dict = {}
    for it in items:
        if it.per_record:
            per_kind.setdefault(it.per_record, []).append(it)
    joins = []                   # (cte, {item: (o, s, c) columns})
    counted = []                 # (item, kind, cte of the records' values, p column)
    for k, (kind, its) in enumerate(per_kind.items()):
        r = f'r{k}'
        if kind in record_tables:
            cols = ['t."行号" AS "记录行号"'] + [f'f.{quote(d.name.text)}' for d in own] + \
                [_typed(g, d, 't') for d in p.record_inputs(kind)]
            ctes.append(f'{r}f AS (SELECT f."行号", {", ".join(cols)} FROM {record_tables[kind]} AS t '
                        f'JOIN f ON CAST(t.{idq} AS VARCHAR) = f.{idq})')
        else:                    # not given as a table: one record per applicant, from its own columns
            ctes.append(f'{r}f AS (SELECT f."行号", f."行号" AS "记录行号"'
                        + ''.join(f', f.{quote(d.name.text)}' for d in own) + ' FROM f)')
        sel = ['"行号"', '"记录行号"']
        for it in its:
            n = it.name.text
            o, a = g.item(it, valid)
            sel.append(f'{o} AS {ocol[n]}')
            sel.append(f'CAST(GREATEST({a}, 0) AS {MONEY}) AS a_{pcol[n]}')
            cap = g.firm_cap(it.firm_cap) if it.firm_cap is not None and valid else 'NULL'
            sel.append(f'CAST({cap} AS {MONEY}) AS c_{pcol[n]}')
        ctes.append(f'{r}i AS (SELECT {", ".join(sel)} FROM {r}f AS f)')
        cols = ['"行号"', '"记录行号"']
        for it in its:
            n = it.name.text
            cols += [ocol[n], f'c_{pcol[n]}',
                     f"CASE WHEN {ocol[n]} IN ({CODES[R.AMOUNT]}, {CODES[R.CEILING]}) THEN COALESCE(a_{pcol[n]}, 0) "
                     f"ELSE CAST(0 AS {MONEY}) END AS {pcol[n]}"]
        ctes.append(f'{r}v0 AS (SELECT {", ".join(cols)} FROM {r}i)')
        layer = f'{r}v0'
        plain = ['"行号"', '"记录行号"'] + [c for it in its for c in (ocol[it.name.text], f'c_{pcol[it.name.text]}',
                                                                    pcol[it.name.text])]
        # 就高 per record: the highest member keeps its amount (first of equals), the others get 0
        for j, gr in enumerate(gr for gr in p.groups if gr.per_record == kind and valid):
            members = [m.text for m in gr.members if m.text in pcol]
            best = f'GREATEST(0, {", ".join(pcol[m] for m in members)})'
            cur = {c: c for c in plain}
            for i, m in enumerate(members):
                earlier = ' OR '.join(f'{pcol[members[x]]} = {best}' for x in range(i))
                win = f'{pcol[m]} = {best}' + (f' AND NOT ({earlier})' if earlier else '')
                cur[pcol[m]] = f'CAST(CASE WHEN {win} THEN {pcol[m]} ELSE 0 END AS {MONEY}) AS {pcol[m]}'
            ctes.append(f'{r}g{j} AS (SELECT {", ".join(cur[c] for c in plain)} FROM {layer})')
            layer = f'{r}g{j}'
        # the item's quota inside the applicant: counts records, highest amounts first
        quotas = [it for it in its if it.quota is not None and valid]
        if quotas:
            cur = {c: c for c in plain}
            for it in quotas:
                pc = pcol[it.name.text]
                cur[pc] = (f'CAST(CASE WHEN {pc} > 0 AND ROW_NUMBER() OVER (PARTITION BY "行号" ORDER BY {pc} DESC, '
                           f'"记录行号" NULLS FIRST) > {int(it.quota)} THEN 0 ELSE {pc} END AS {MONEY}) AS {pc}')
            ctes.append(f'{r}q AS (SELECT {", ".join(cur[c] for c in plain)} FROM {layer})')
            layer = f'{r}q'
        # per applicant: outcome, sum, cap
        agg = ['"行号"']
        cols = {}
        amount, ceiling = CODES[R.AMOUNT], CODES[R.CEILING]
        for it in its:
            n = it.name.text
            o, pc = ocol[n], pcol[n]
            agg.append(f'CASE WHEN SUM(CASE WHEN {o} = {amount} THEN 1 ELSE 0 END) > 0 THEN {amount} '
                       f'WHEN SUM(CASE WHEN {o} = {ceiling} THEN 1 ELSE 0 END) > 0 THEN {ceiling} '
                       f'WHEN MIN({o}) = MAX({o}) THEN MIN({o}) ELSE {CODES[R.NOT_APPLICABLE]} END AS {o}')
            agg.append(f'CAST(SUM({pc}) AS {MONEY}) AS s_{pc}')
            agg.append(f'MAX(c_{pc}) AS c_{pc}')
            cols[n] = (o, f's_{pc}', f'c_{pc}')
            if kind in record_tables:
                counted.append((n, kind, layer, pc))
        ctes.append(f'{r}a AS (SELECT {", ".join(agg)} FROM {layer} GROUP BY "行号")')
        joins.append((f'{r}a', cols))
    # the applicant's own items, then every item's outcome and value in one layer
    sel = list(keep)
    for it in items:
        if not it.per_record:
            o, a = g.item(it, valid)
            sel.append(f'{o} AS {ocol[it.name.text]}')
            sel.append(f'CAST(GREATEST({a}, 0) AS {MONEY}) AS a_{pcol[it.name.text]}')
    ctes.append(f'i AS (SELECT {", ".join(sel)} FROM f)')
    sel = ['i."行号"', f'i.{idq}']
    for it in items:
        n = it.name.text
        o, pc = ocol[n], pcol[n]
        owner = next(((cte, cols[n]) for cte, cols in joins if n in cols), None)
        if owner is None:
            sel.append(f'i.{o}')
            sel.append(f"CASE WHEN i.{o} IN ({amount_code()}) THEN COALESCE(i.a_{pc}, 0) "
                       f"ELSE CAST(0 AS {MONEY}) END AS {pc}")
            continue
        cte, (oc, sc, cc) = owner
        sel.append(f'COALESCE({cte}.{oc}, {CODES[R.NOT_APPLICABLE]}) AS {o}')
        sel.append(f'CAST(CASE WHEN COALESCE({cte}.{oc}, {CODES[R.NOT_APPLICABLE]}) IN ({amount_code()}) THEN '
                   f'(CASE WHEN {cte}.{cc} IS NOT NULL AND {cte}.{sc} > {cte}.{cc} THEN {cte}.{cc} ELSE {cte}.{sc} END) '
                   f'ELSE 0 END AS {MONEY}) AS {pc}')
    ctes.append(f'v0 AS (SELECT {", ".join(sel)} FROM i'
                + ''.join(f' LEFT JOIN {cte} ON {cte}."行号" = i."行号"' for cte, _c in joins) + ')')

    captured = {}

    def finish(last):
        """The records that got a part of the applicant's final amount, per per-record item."""
        captured['last'] = last
        joined, extra = '', {}
        for j, (n, kind, layer, pc) in enumerate(counted):
            ctes.append(f'n{j} AS (SELECT x."行号" AS k{j}, SUM(CASE WHEN x.{pc} > 0 AND x.before_{pc} < y.{pc} '
                        f'THEN 1 ELSE 0 END) AS n{j} FROM (SELECT "行号", {pc}, COALESCE(SUM({pc}) OVER (PARTITION BY '
                        f'"行号" ORDER BY "记录行号" NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before_{pc} '
                        f'FROM {layer}) AS x JOIN {last} AS y ON y."行号" = x."行号" GROUP BY x."行号")')
            joined += f' LEFT JOIN n{j} ON n{j}.k{j} = {last}."行号"'
            extra.setdefault(n, []).append(f'COALESCE(n{j}.n{j}, 0) AS {quote(count_column(n, kind))}')
        return joined, extra

    ctes, query = groups_and_result(g, p, valid, ctes, keep, names, pcol, ocol, [], ordered, records=True,
                                    finish=finish, split=True)
    per_record = {}
    for k, (kind, its) in enumerate(per_kind.items()):
        if kind not in record_tables:
            continue
        layer = next(layer for _n, kd, layer, _pc in counted if kd == kind)
        sel, befores = ['x."行号"', 'x."记录行号"'], []
        for it in its:
            n = it.name.text
            o, pc = ocol[n], pcol[n]
            befores.append(f'COALESCE(SUM({pc}) OVER (PARTITION BY "行号" ORDER BY "记录行号" NULLS FIRST ROWS BETWEEN '
                           f'UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before_{pc}')
            sel += [f'CASE i.{o} {" ".join(f"WHEN {c} THEN {string(w)}" for w, c in CODES.items())} END '
                    f'AS {quote(n + ".结果")}',
                    f'CASE WHEN i.{o} IN ({amount_code()}) THEN i.a_{pc} END AS {quote(n + ".计算金额")}',
                    f'CASE WHEN i.{o} IN ({amount_code()}) AND y.{o} IN ({amount_code()}) THEN '
                    f'CAST(LEAST(x.{pc}, GREATEST(y.{pc} - x.before_{pc}, 0)) AS {MONEY}) END AS {quote(n + ".金额")}']
        last = captured['last']
        per_record[kind] = (f'SELECT {", ".join(sel)} FROM (SELECT *, '
                            f'{", ".join(befores)} FROM {layer}) AS x JOIN r{k}i AS i ON i."行号" = x."行号" AND '
                            f'i."记录行号" = x."记录行号" JOIN {last} AS y ON y."行号" = x."行号" '
                            f'ORDER BY x."行号", x."记录行号"')
    return ctes, query, per_record


def amount_code() -> str:
    return f'{CODES[R.AMOUNT]}, {CODES[R.CEILING]}'


def output_columns(checked: Checked, record_tables: dict, id_column: str) -> list[str]:
    cols = ['行号', id_column]
    for _c, it in checked.policy.items():
        n = it.name.text
        cols += [f'{n}.结果', f'{n}.金额']
        if it.per_record and it.per_record in record_tables:
            cols.append(count_column(n, it.per_record))
    return cols + ['合计']


def records_allocation_sql(checked: Checked, date: _dt.date, facts_table: str, record_tables: dict,
                           id_column: str) -> str:
    """:func:`records_sql` plus a column ``项.分配金额`` per item with a quota or pool: what the quota or pool
    grants over the whole table (compiler/tables/allocation.py, window functions), as
    ``polc eval --records … --allocation``: an item computed per record of a kind given as a table claims
    once per record (its part of the applicant's amount; a quota of 10 products counts products, in the
    order of the applicants and of their records), and the column is the sum of the applicant's grants
    (NULL where it makes no claim); every other item claims once per applicant."""
    from polc.compiler.tables.allocation import allocation_sql
    ctes, query, per_record = records_parts(checked, date, facts_table, record_tables, id_column, ordered=False)
    columns = output_columns(checked, record_tables, id_column)
    items = [it for _c, it in checked.policy.items() if it.quota is not None or it.pool is not None]
    spec = [(it.name.text, it.quota, it.pool.value if it.pool is not None else None, it.allocation) for it in items]
    by_record = [s for s, it in zip(spec, items) if it.per_record in record_tables]
    flat = [s for s, it in zip(spec, items) if it.per_record not in record_tables]
    # one WITH for everything: the shared steps once, each allocation's steps under its own prefix
    parts = list(ctes) + [f'appres AS ({query})']
    try:
        steps, base = allocation_sql('SELECT * FROM appres', columns, flat, quote, prefix='fl_', split=True)
        parts += steps + [f'base AS ({base})']
        joins, extra = '', []
        for j, (name, quota, pool, rule) in enumerate(by_record):
            kind = next(it.per_record for it in items if it.name.text == name)
            amount = quote(name + '.金额')
            parts.append(f'pr{j} AS ({per_record[kind]})')
            parts.append(f'cl{j} AS (SELECT ROW_NUMBER() OVER (ORDER BY "行号" NULLS FIRST, "记录行号" NULLS FIRST) '
                         f'AS "行号", "行号" AS applicant, {amount} FROM pr{j})')
            steps, shared = allocation_sql(f'SELECT * FROM cl{j}', ['行号', 'applicant', name + '.金额'],
                                           [(name, quota, pool, rule)], quote, prefix=f'al{j}_', split=True)
            granted = quote(name + '.分配金额')
            parts += steps + [f'x{j} AS (SELECT applicant AS k{j}, SUM({granted}) AS s{j} FROM ({shared}) AS a{j} '
                              f'GROUP BY applicant)']
            joins += f' LEFT JOIN x{j} ON x{j}.k{j} = base."行号"'
            extra.append(f'CAST(x{j}.s{j} AS {MONEY}) AS {granted}')
    except ValueError as exc:
        raise SqlUnsupported(str(exc) + '；请用 polc eval --records … --allocation') from None
    names = columns + [s[0] + '.分配金额' for s in flat]
    order = {s[0]: i for i, s in enumerate(spec)}
    cols = [f'base.{quote(c)}' for c in names] + extra
    # the allocation columns in the items' order, after the results (as the flat query has them)
    alloc = sorted(cols[len(columns):], key=lambda c: order[c.rsplit('"', 2)[-2].rsplit('.分配金额', 1)[0]])
    return ('WITH ' + ',\n'.join(parts) + f'\nSELECT {", ".join(cols[:len(columns)] + alloc)} FROM base{joins} '
            'ORDER BY base."行号"')
