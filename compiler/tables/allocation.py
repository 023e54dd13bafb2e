"""Sharing a quota (每年名额) or a pool (每年总额) among the applicants of a whole table.

Rules (declared on the item with ``分配：…``; default 按申请顺序):
- 按金额: larger claims first (ties: earlier rows first);
- 按申请顺序: rows in the order of the table;
- 按比例 (pools only): when the pool cannot pay every claim, each claim is scaled by
  pool ÷ total claims, rounded down to the fen.
A quota keeps the first N claimants in rule order; then a pool pays claims in rule order until it
runs out (the claim that crosses it gets what is left).  Never more than the pool, never more
than N recipients, never more than a claim.
"""
from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Optional

import attrs

from polc.compiler.python.runtime import AMOUNT
from polc.compiler.tables.io import BEFORE_CUTS, PAID, TOTAL
from polc.dsl.units import format_money

FEN = Decimal('0.01')


@attrs.frozen
class Grant:
    row: int
    claimed: Decimal
    granted: Decimal
    reason: str


def allocate(claims: list[tuple[int, Decimal]], quota: Optional[int], pool: Optional[Decimal],
             rule: str = '') -> list[Grant]:
    """claims: (row, amount > 0) in table order.  Returns one Grant per claim, in table order."""
    rule = rule or '按申请顺序'
    order = list(range(len(claims)))
    if rule == '按金额':
        order.sort(key=lambda i: (-claims[i][1], claims[i][0]))
    granted = {i: claims[i][1] for i in order}
    reason = {i: '' for i in order}
    if quota is not None:
        for rank, i in enumerate(order, start=1):
            if rank > quota:
                granted[i] = Decimal(0)
                reason[i] = f'名额已满：每年最多 {quota} 个，{rule}排第 {rank} 位'
        order = [i for i in order if granted[i] > 0]
    if pool is not None:
        total = sum((granted[i] for i in order), Decimal(0))
        if total > pool:
            pool_text, total_text = format_money(pool), format_money(total)   # once, not per claim
            if rule == '按比例':
                for i in order:
                    share = (granted[i] * pool / total).quantize(FEN, rounding=ROUND_FLOOR)
                    reason[i] = f'资金池 {pool_text} 不足以支付全部 {total_text}，按比例发放 {format_money(share)}'
                    granted[i] = share
            else:
                left = pool
                for rank, i in enumerate(order, start=1):
                    give = min(granted[i], left)
                    if give != granted[i]:
                        reason[i] = (f'资金池 {pool_text} 余额不足（{rule}排第 {rank} 位），发放 '
                                     f'{format_money(give) if give else "0元"}')
                    granted[i] = give
                    left -= give
    return [Grant(claims[i][0], claims[i][1], granted[i], reason[i]) for i in range(len(claims))]


@attrs.frozen
class Shared:
    """How one item's quota or pool was shared over a whole table (the numbers a budget needs)."""
    claims: int             # applicants with an amount > 0
    recipients: int         # of them, granted > 0
    claimed: Decimal
    granted: Decimal
    cut: int                # granted < claimed


def shared(grants: list[Grant]) -> Shared:
    return Shared(len(grants), sum(1 for g in grants if g.granted > 0),
                  sum((g.claimed for g in grants), Decimal(0)), sum((g.granted for g in grants), Decimal(0)),
                  sum(1 for g in grants if g.granted < g.claimed))


def shared_sql(claims_query: str, quota: Optional[int], pool: Optional[Decimal], rule: str = '',
               flagged: bool = False) -> str:
    """One SQL query giving :class:`Shared`'s five numbers for the claims (columns 行号, claimed,
    every claimed > 0) by the same rules as :func:`allocate`: window functions and exact DECIMALs
    (按比例 in whole fen by integer division, rounding down to the fen as ``allocate`` does).
    With ``flagged`` the claims also have a boolean column is_amount (the claim is an amount, not
    a ceiling) and a sixth number is given: the sum cut from the amount claims."""
    rule = rule or '按申请顺序'
    order = 'claimed DESC, "行号"' if rule == '按金额' else '"行号"'
    kept = f'CASE WHEN rnk <= {quota} THEN claimed ELSE 0 END' if quota is not None else 'claimed'
    flag = ', is_amount' if flagged else ''
    steps = [f'r AS (SELECT "行号", claimed{flag}, row_number() OVER (ORDER BY {order}) AS rnk '
             f'FROM ({claims_query}) c)',
             f'q AS (SELECT *, {kept} AS kept FROM r)']
    if pool is None:
        steps.append('g AS (SELECT *, kept AS granted FROM q)')
    else:
        p = f'CAST({pool} AS DECIMAL(38, 2))'
        steps.append('t AS (SELECT *, SUM(kept) OVER () AS total, COALESCE(SUM(kept) OVER (ORDER BY rnk ROWS '
                     'BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS prefix FROM q)')
        if rule == '按比例':
            share = (f'CAST(CAST(CAST(kept * 100 AS HUGEINT) * CAST({p} * 100 AS HUGEINT) // '
                     f'CAST(total * 100 AS HUGEINT) AS DECIMAL(38, 0)) * 0.01 AS DECIMAL(38, 2))')
        else:
            share = f'LEAST(kept, GREATEST({p} - prefix, 0))'
        steps.append(f'g AS (SELECT *, CASE WHEN total > {p} THEN {share} ELSE kept END AS granted FROM t)')
    return ('WITH ' + ', '.join(steps) + ' SELECT count(*), count(*) FILTER (WHERE granted > 0), '
            'COALESCE(SUM(claimed), 0), COALESCE(SUM(granted), 0), count(*) FILTER (WHERE granted < claimed)'
            + (', COALESCE(SUM(claimed - granted) FILTER (WHERE is_amount), 0)' if flagged else '') + ' FROM g')


def allocation_sql(results_query: str, columns: list[str], limited: list[tuple], quote, prefix: str = '',
                   split: bool = False, paid: bool = False):
    """The results of ``results_query`` (columns ``columns``, with 行号 and each item's
    ``项.金额``) plus one column ``项.分配金额`` per item with a quota or pool: what :func:`allocate`
    grants each claim (NULL where the row makes no claim).  ``limited``: (item, quota, pool, rule).

    Portable SQL (window functions, CASE, exact DECIMAL products): the same on DuckDB and Spark.
    按比例 needs ⌊claim × pool ÷ total⌋ in fen: a floating-point quotient, then corrected by exact
    products to the true floor (the quotient is below 2^52, so the estimate is within 1).

    ``prefix`` is put before the names of its ``WITH`` steps; ``split``: (the steps, the final SELECT)
    instead of one query, for a caller that puts several allocations in one ``WITH`` (some engines'
    rewriting of nested ``WITH`` clauses clashes on repeated names).  ``paid``: the results in the
    layout `polc eval --out` writes for such a policy — 合计 as 应得合计（削减前）, then 实发合计
    (:func:`paid_total`) — followed by the ``项.分配金额`` columns."""
    money = 'DECIMAL(38, 2)'
    fen = 'DECIMAL(38, 0)'
    if not limited:
        return ([], results_query) if split else results_query
    res = prefix + 'res'
    steps = [f'{res} AS ({results_query})']
    joins, out = [], []
    for i, (name, quota, pool, rule) in enumerate(limited):
        # each item's windows run over its claims only (the rows with an amount > 0), and the
        # grants are joined back to the results by 行号: no window over the whole table
        rule = rule or '按申请顺序'
        amount = quote(name + '.金额')
        order = f'{amount} DESC, "行号"' if rule == '按金额' else '"行号"'
        a, b, g = (f'{prefix}{n}{i}' for n in ('a', 'b', 'g'))
        steps.append(f'{a} AS (SELECT "行号", {amount} AS c, row_number() OVER (ORDER BY {order}) AS r '
                     f'FROM {res} WHERE {amount} > 0)')
        kept = f'CASE WHEN r <= {quota} THEN c ELSE CAST(0 AS {money}) END' if quota is not None else 'c'
        steps.append(f'{b} AS (SELECT "行号", r, CAST({kept} AS {money}) AS k FROM {a})')
        if pool is None:
            granted, source = 'k', b
        else:
            p = Decimal(pool)
            if p >= Decimal(10) ** 13:
                raise ValueError(f'资金池 {p} 元过大，无法在 SQL 中精确按比例分配')
            pool_sql = f'CAST({p} AS {money})'
            source = f'{prefix}t{i}'
            steps.append(f'{source} AS (SELECT "行号", k, SUM(k) OVER () AS t, COALESCE(SUM(k) OVER (ORDER BY r '
                         f'ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), CAST(0 AS {money})) AS q FROM {b})')
            if rule == '按比例':
                num = f'(CAST(k * 100 AS {fen}) * CAST({int(p * 100)} AS {fen}))'
                den = f'CAST(t * 100 AS {fen})'
                est = f'CAST(FLOOR(CAST({num} AS DOUBLE) / CAST({den} AS DOUBLE)) AS {fen})'
                exact = (f'({est} - CASE WHEN {est} * {den} > {num} THEN 1 ELSE 0 END '
                         f'+ CASE WHEN ({est} + 1) * {den} <= {num} THEN 1 ELSE 0 END)')
                share = f'CAST(CAST({exact} AS {fen}) * CAST(0.01 AS DECIMAL(2, 2)) AS {money})'
            else:
                share = f'LEAST(k, GREATEST({pool_sql} - q, CAST(0 AS {money})))'
            granted = f'CASE WHEN t > {pool_sql} THEN {share} ELSE k END'
        steps.append(f'{g} AS (SELECT "行号" AS n{i}, CAST({granted} AS {money}) AS g{i} FROM {source})')
        joins.append(f' LEFT JOIN {g} ON {g}.n{i} = {res}."行号"')
        out.append(f'{g}.g{i} AS {quote(name + ".分配金额")}')
    cols = [f'{res}.{quote(col)}' for col in columns]
    body = f'SELECT {", ".join(cols + out)} FROM {res}{"".join(joins)}'
    select = body + ' ORDER BY "行号"'
    if paid:        # the results' layout of `polc eval --out`: 应得合计（削减前）, 实发合计, then the grants
        d = prefix + 'd'
        steps.append(f'{d} AS ({body})')
        names = [quote(c) for c in columns]
        select = (f'SELECT {", ".join(c for c in names if c != quote(TOTAL))}, {quote(TOTAL)} AS {quote(BEFORE_CUTS)}, '
                  f'{paid_total(limited, quote)} AS {quote(PAID)}, '
                  f'{", ".join(quote(n + ".分配金额") for n, *_r in limited)} FROM {d} ORDER BY "行号"')
    if split:
        return steps, select
    return 'WITH ' + ',\n'.join(steps) + '\n' + select


def paid_total(limited: list[tuple], quote, amount: str = f"'{AMOUNT}'") -> str:
    """SQL for 实发合计 over a row with 合计 and each limited item's 项.结果, 项.金额 and 项.分配金额:
    合计 less what each quota and pool took off the row's amounts (a claim that is only a ceiling is
    not in 合计, so nothing is taken off for it).  ``amount``: the SQL of the outcome 'amount' in the
    results (its code in the compact layout)."""
    cut = ' + '.join(f"CASE WHEN {quote(n + '.结果')} = {amount} AND {quote(n + '.分配金额')} IS NOT NULL "
                     f"THEN {quote(n + '.金额')} - {quote(n + '.分配金额')} ELSE 0 END" for n, *_r in limited)
    return f'CAST({quote(TOTAL)} - ({cut}) AS DECIMAL(38, 2))'
