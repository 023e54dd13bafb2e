"""Markdown pages generated from a policy file: what it grants, and the readings chosen."""
from __future__ import annotations

from . import ast as A
from .checks import Checked
from .coverage import CATEGORY_LABELS, item_category


def _src(source: str, node) -> str:
    s = getattr(node, 'span', None)
    if s is None:
        return ''
    return ' '.join(source[s.start:s.end].split())


def _cell(text: str) -> str:
    return text.replace('|', '\\|').replace('\n', ' ') or '—'


def _caps(item: A.Item, source: str) -> str:
    caps = []
    for n in A.walk(item):
        if isinstance(n, A.Cap):
            caps.append(_src(source, n.limit))
        elif isinstance(n, A.Ceiling) and not isinstance(n.value, A.Cap):
            caps.append(_src(source, n.value))
    seen = []
    for c in caps:
        if c not in seen:
            seen.append(c)
    return '、'.join(seen)


def readings(policy: A.Policy) -> list[tuple[str, str]]:
    """(where, reading) for every 解读 in the policy, in written order."""
    out = [('政策', r) for r in policy.header_values('reading')]
    for c in policy.clauses:
        out.extend((f'{c.number}{c.title}', r) for r in c.readings)
        for it in c.items:
            out.extend((f'{c.number} · {it.name.text}', r) for r in it.readings)
    return out


def policy_page(checked: Checked, source: str) -> str:
    p = checked.policy
    h = p.header_value
    lines = [f'# {h("name", "")}', '']
    lines.append('<!-- 本页由 `polc doc` 从政策文件生成，请勿手工修改。 -->')
    lines.append('')
    meta = [('发文机关', h('issuer')), ('文号', h('docno')), ('状态', h('status')),
            ('印发日期', h('issued')), ('施行日期', h('effective')), ('有效期至', h('expiry')),
            ('有效期', f'{h("duration")}年' if h('duration') else None),
            ('统计起始', h('stats_start')),
            ('组合原则', '、'.join(h('principle')) if h('principle') else None),
            ('比例', '本措施规定的奖补百分比均指最高比例（按比例计算的金额为最高可获）'
             if h('rates_are_maxima') else None)]
    lines.append('| 项目 | 内容 |')
    lines.append('|---|---|')
    for k, v in meta:
        if v:
            lines.append(f'| {k} | {_cell(str(v))} |')
    lines.append('')
    lines.append('## 条款')
    lines.append('')
    lines.append('| 条款 | 项 | 类别 | 结果 | 条件 | 规则 | 上限 | 牵头单位 | 责任单位 |')
    lines.append('|---|---|---|---|---|---|---|---|---|')
    for c in p.clauses:
        if not c.items:
            lines.append(f'| {_cell(c.number + c.title)} | — | — | — | — | — | — | '
                         f'{_cell("、".join(c.lead))} | {_cell("、".join(c.units))} |')
        for it in c.items:
            conds = '；'.join(_src(source, x) for x in it.conditions)
            rule = _src(source, it.amount) if it.amount is not None else ''
            cat = CATEGORY_LABELS[item_category(it, checked)]
            lines.append(
                f'| {_cell(c.number + c.title)} | {_cell(it.name.text)} | {_cell(it.kind)} | {cat} | '
                f'{_cell(conds)} | {_cell(rule)} | {_cell(_caps(it, source))} | '
                f'{_cell("、".join(it.lead or c.lead))} | {_cell("、".join(it.units or c.units))} |')
    if p.groups:
        lines += ['', '## 组合', '', '| 组 | 方式 | 成员 | 合计上限 |', '|---|---|---|---|']
        for g in p.groups:
            mode = '就高（不重复）' if g.mode == 'highest' else '合计上限'
            lines.append(f'| {_cell(g.name.text)} | {mode} | {_cell("、".join(m.text for m in g.members))} | '
                         f'{_cell(_src(source, g.cap) if g.cap is not None else "")} |')
    rs = readings(p)
    lines += ['', '## 解读', '']
    if rs:
        for where, r in rs:
            lines.append(f'- **{where}**：{r}')
    else:
        lines.append('（无）')
    return '\n'.join(lines) + '\n'


def readings_page(entries: list[tuple[str, A.Policy]]) -> str:
    """All readings of several policies (docs/readings.md)."""
    lines = ['# 解读汇总', '',
             '<!-- 本页由 `polc doc --readings` 从政策文件生成，请勿手工修改。 -->', '',
             '原文有两种以上理解时，政策文件在规则旁用「解读」写明所取的理解；`polc eval` 的解释会列出它。', '']
    for file, p in entries:
        lines.append(f'## {p.header_value("name", "")}（`{file}`）')
        lines.append('')
        rs = readings(p)
        if not rs:
            lines.append('（无）')
        for where, r in rs:
            lines.append(f'- **{where}**：{r}')
        lines.append('')
    return '\n'.join(lines)
