"""Human-readable explanation of an evaluation result, in Chinese."""
from __future__ import annotations

from polc.dsl.units import format_money

from polc.compiler.python.results import EvalResult, ItemResult
from polc.compiler.python.runtime import AMOUNT, CEILING, NO_AMOUNT, NOT_APPLICABLE


def _headline(it: ItemResult) -> str:
    if it.outcome == AMOUNT:
        if it.set_aside:
            return f'可获 {format_money(it.amount)}，但按就高不重复未采用'
        if it.paid != it.amount:
            return f'{format_money(it.paid)}（计算为 {format_money(it.amount)}，经合计上限调整）'
        return format_money(it.paid)
    if it.outcome == CEILING:
        if it.set_aside:
            return f'最高可获 {format_money(it.amount)}，但按就高不重复未采用'
        return f'最高可获 {format_money(it.ceiling)}'
    return it.outcome_label


def departments(it: ItemResult) -> str:
    """「牵头单位：…；责任单位：…」, or '' when the item names none."""
    parts = []
    if it.lead:
        parts.append('牵头单位：' + '、'.join(it.lead))
    if it.units:
        parts.append('责任单位：' + '、'.join(it.units))
    return '；'.join(parts)


def render_item(it: ItemResult, verbose: bool = True, words=None) -> list[str]:
    """Lines explaining one item; ``words`` converts polc's own words to the policy's script."""
    if words is not None:
        return [words(line) for line in render_item(it, verbose)]
    sep = ' ' if it.clause and it.clause[-1] not in '）)、' else ''
    out = [f'{it.clause}{sep}{it.title} · {it.name}【{it.kind}】', f'  结果：{_headline(it)}']
    if it.detail and (it.outcome != AMOUNT):
        label = '原因' if it.outcome == NOT_APPLICABLE else '说明'
        out.append(f'  {label}：{it.detail}')
    if verbose and it.steps:
        out.append('  计算：')
        out.extend(f'        {s.strip()}' if s.startswith('    ') else f'    · {s}' for s in it.steps)
    if it.unfilled:
        out.append('  未填：' + '、'.join(f'「{n}」（未填，按默认值 {d} 计）' for n, d in it.unfilled))
    for n in it.notes:
        out.append(f'  调整：{n}')
    if verbose:
        for r in it.readings:
            out.append(f'  解读：{r}')
        for s in it.source:
            out.append(f'  原文：{s}')
        if departments(it):
            out.append('  ' + departments(it))
        if it.quota:
            out.append(f'  名额：每年最多 {it.quota} 个（名额在申请人之间的分配不在单个申请人计算范围内）')
        if it.pool is not None:
            out.append(f'  资金总额：每年不超过 {format_money(it.pool)}')
    return out


def _qualifies(it: ItemResult) -> bool:
    """An item the applicant gets something from: an amount above 0, a ceiling, a non-cash
    benefit, a deferral or a case-by-case decision (not 不适用, not an amount of 0)."""
    if it.outcome == AMOUNT:
        return it.amount is not None and it.amount > 0
    return it.outcome not in (NOT_APPLICABLE, NO_AMOUNT)


def _lead_line(it: ItemResult) -> str:
    sep = ' ' if it.clause and it.clause[-1] not in '）)、' else ''
    return f'  · {it.clause}{sep}{it.name}【{it.kind}】：{_headline(it)}' + (
        f'（{it.detail}）' if it.outcome not in (AMOUNT, CEILING, NOT_APPLICABLE) and it.detail else '')


def render_text(r: EvalResult, verbose: bool = True, all_items: bool = False) -> str:
    """The applicant's view: what they qualify for and how much first, then the derivations of
    those items, then the names of the items that do not apply.  ``all_items``: the reviewer's
    layout (every item in policy order, then the totals)."""
    if all_items:
        return render_all(r, verbose)
    out = _preamble(r)
    got = [it for it in r.items if _qualifies(it)]
    out.append('可获得')
    out.extend(_lead_line(it) for it in got)
    if not got:
        out.append('  （无）')
    out.append(f'  应得合计：{format_money(r.total)}')
    if r.ceilings:
        parts = '，'.join(f'{k} {format_money(v)}' for k, v in r.ceilings.items())
        out.append(f'  最高可获（以审核为准）：{parts}；共 {format_money(r.ceiling_total)}')
    notes = [g for g in r.groups if g.note]
    if notes:
        out.append('')
        out.append('组合')
        for g in notes:
            out.append(f'  {g.name}：{g.note}')
    if verbose and got:
        out.append('')
        out.append('计算过程')
        out.append('')
        for it in got:
            out.extend(render_item(it, verbose))
            out.append('')
        out.pop()
    zero = [it for it in r.items if not _qualifies(it) and it.outcome != NOT_APPLICABLE]
    rest = [it for it in r.items if it.outcome == NOT_APPLICABLE]
    if zero or rest:
        out.append('')
    if zero:
        out.append(f'金额为 0（{len(zero)} 项；计算见 --all）：' + '、'.join(it.name for it in zero))
    if rest:
        out.append(f'不适用（{len(rest)} 项；原因见 --all）：' + '、'.join(it.name for it in rest))
    return r.words('\n'.join(out)) + '\n'


def _preamble(r: EvalResult) -> list[str]:
    from polc.compiler.python.results import HEADER_LABELS
    out = [r.policy]
    facts = []
    for k, label in HEADER_LABELS.items():
        if k in r.header and k not in ('issued', 'effective', 'expiry', 'duration'):
            v = r.header[k]
            facts.append(f'{label}：{"、".join(v) if isinstance(v, tuple) else v}')
    if facts:
        out.append('；'.join(facts))
    out.append(f'评估日期：{r.date.isoformat()}（{r.validity}）')
    for reading in r.readings:
        out.append(f'解读：{reading}')
    out.append('')
    return out


def render_all(r: EvalResult, verbose: bool = True) -> str:
    """The reviewer's layout: every item in policy order, then the groups and the totals."""
    out = _preamble(r)
    for it in r.items:
        out.extend(render_item(it, verbose))
        out.append('')
    if r.groups:
        out.append('组合')
        for g in r.groups:
            out.append(f'  {g.name}：{g.note}')
        out.append('')
    out.append('合计')
    if r.totals:
        for kind, v in r.totals.items():
            out.append(f'  {kind}：{format_money(v)}')
    out.append(f'  应得合计：{format_money(r.total)}')
    if r.ceilings:
        parts = '，'.join(f'{k} {format_money(v)}' for k, v in r.ceilings.items())
        out.append(f'  最高可获（以审核为准）：{parts}；共 {format_money(r.ceiling_total)}')
    return r.words('\n'.join(out)) + '\n'
