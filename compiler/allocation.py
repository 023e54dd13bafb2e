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
