"""The budget report as one self-contained HTML5 page: tables for checking, inline SVG charts for
looking, no script and nothing fetched.  Amounts: 万元 with thousands separators in every table
(the unit in the column head), 亿元 only in the headline (compiler/budget/numbers.py)."""
from __future__ import annotations

import html
from decimal import Decimal
from typing import Optional

from polc.compiler.budget.numbers import headline, money_text, wan
from polc.compiler.budget.aggregate import HISTOGRAM_CHART, ITEM_CHART, ZERO, Report, _item_bars


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _bars(title: str, rows: list[tuple[str, Decimal]], x_label: str, y_label: str, fmt) -> str:
    """A horizontal bar chart as inline SVG: a title, the categories down the left (y axis), bar
    lengths in proportion to the values (x axis), and each exact value written beside its bar.
    The proportions are computed with Decimal and rounded to whole pixels."""
    width, label_w, bar_w, row_h = 900, 280, 440, 26
    top_y = 40
    height = top_y + row_h * max(len(rows), 1) + 46
    top = max((v for _l, v in rows), default=ZERO)
    bottom = top_y + row_h * max(len(rows), 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"><title>{_e(title)}</title>',
           f'<text x="0" y="20" class="chart-title">{_e(title)}</text>',
           f'<text class="axis" transform="translate(14 {(top_y + bottom) // 2}) rotate(-90)" '
           f'text-anchor="middle">{_e(y_label)}</text>']
    if not rows:
        out.append(f'<text x="{label_w + 6}" y="{top_y + 17}" class="axis">（无）</text>')
    for i, (label, v) in enumerate(rows):
        y = top_y + i * row_h
        w = 0 if top == 0 else int((v / top * bar_w).to_integral_value())
        out.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{_e(label)}</text>'
                   f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" class="bar"/>'
                   f'<text x="{label_w + w + 6}" y="{y + 17}">{_e(fmt(v))}</text>')
    out.append(f'<line x1="{label_w}" y1="{top_y}" x2="{label_w}" y2="{bottom}" class="axis-line"/>'
               f'<line x1="{label_w}" y1="{bottom}" x2="{label_w + bar_w}" y2="{bottom}" class="axis-line"/>'
               f'<text x="{label_w + bar_w // 2}" y="{bottom + 26}" text-anchor="middle" class="axis">'
               f'{_e(x_label)}</text></svg>')
    return ''.join(out)


def _table(head: list[str], rows: list[list], cls: Optional[str] = None) -> str:
    attr = f' class="{cls}"' if cls else ''
    out = [f'<table{attr}><thead><tr>' + ''.join(f'<th>{_e(h)}</th>' for h in head) + '</tr></thead><tbody>']
    for r in rows:
        out.append('<tr>' + ''.join(f'<td>{_e(c)}</td>' for c in r) + '</tr>')
    out.append('</tbody></table>')
    return ''.join(out)


_CSS = ('body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;margin:2em;'
        'color:#222}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:4px 8px;'
        'text-align:right}th{background:#eee}td:first-child,td:nth-child(2){text-align:left}.bar{fill:#3b6ea5}'
        '.chart{font-size:13px;margin:1em 0}.chart-title{font-size:15px;font-weight:bold}.axis{fill:#555}'
        '.axis-line{stroke:#555;stroke-width:1}.summary td{text-align:left}'
        '.items td:nth-child(-n+3){text-align:left}.cuts td:last-child{text-align:left}'
        '.headline td{font-size:1.2em;font-weight:bold}.note{color:#555}details{margin:1em 0}')

def _dash(v, fmt=wan):
    return '—' if v is None else fmt(v)


def render_html(rep: Report) -> str:
    """The report as one self-contained HTML5 page (UTF-8, no script, nothing fetched)."""
    limited = {s.name for s in rep.shared}
    cut_any = rep.after_cuts != rep.total
    summary = [f'<tr><th>评估日期</th><td>{_e(rep.date)}</td></tr>',
               f'<tr><th>申请人数</th><td id="applicants">{rep.applicants:,}</td></tr>',
               *([f'<tr><th>获奖申请人与{_e("、".join(k for k, _n in rep.recipients[1]))}</th>'
                  f'<td id="recipients">{_e(rep.recipients_text)}</td></tr>'] if rep.recipients else []),
               f'<tr class="headline"><th>应发合计（名额与资金池分配后）</th><td id="total">{_e(headline(rep.after_cuts))}</td></tr>',
               f'<tr><th>申请额合计（每个申请人单独计算，未扣名额与资金池）</th><td id="demand">{_e(headline(rep.total))}</td></tr>']
    if cut_any:
        summary.append(f'<tr><th>名额与资金池削减</th><td id="cut">{_e(money_text(rep.total - rep.after_cuts))}</td></tr>')
    summary.append(f'<tr><th>最高可获合计（以审核为准，未计入应发合计）</th><td>{_e(headline(rep.ceiling_total))}</td></tr>')
    parts = ['<!DOCTYPE html>', '<html lang="zh-CN"><head><meta charset="utf-8">',
             f'<title>{_e(rep.policy)}：预算报告</title><style>{_CSS}</style></head><body>',
             f'<h1>{_e(rep.policy)}：预算报告</h1>',
             '<table class="summary"><tbody>' + ''.join(summary) + '</tbody></table>',
             '<p class="note">应发合计是预算要支付的数：每项先按每个申请人单独计算，再按名额与资金池分配；'
             '申请额合计是分配前的需求。表中金额单位为万元。</p>',
             '<h2>各项合计</h2>',
             _bars(ITEM_CHART, _item_bars(rep), '分配后应得金额（万元）', '条款与项', money_text)]
    shown = [(k, i) for k, i in enumerate(rep.items, start=1) if i.recipients or i.ceilings or i.total]
    folded = [(k, i) for k, i in enumerate(rep.items, start=1) if not (i.recipients or i.ceilings or i.total)]
    parts.append(_table(['序号', '条款', '项', '类别', '获得人数', '申请额（万元）', '分配后（万元）', '上限（万元）',
                         '达到上限', '最高可获人数', '最高可获合计（万元）', '不适用'],
                        [[k, i.clause, i.name, i.kind, f'{i.recipients:,}' + (
                            f'（{i.record_kind} {i.record_recipients:,} 个）' if i.record_recipients is not None else ''),
                          wan(i.total),
                          wan(i.after_cuts) if i.name in limited else '同左', _dash(i.cap),
                          i.at_cap if i.at_cap is not None else '—', f'{i.ceilings:,}' + (
                              f'（{i.record_kind} {i.record_ceilings:,} 个）' if i.record_ceilings is not None else ''),
                          wan(i.ceiling_total),
                          f'{i.not_applicable:,}'] for k, i in shown], 'items'))
    if folded:
        parts.append(f'<details><summary>另有 {len(folded)} 项无人获得金额或最高可获（已折叠）</summary>'
                     + _table(['序号', '条款', '项', '类别', '不适用'],
                              [[k, i.clause, i.name, i.kind, f'{i.not_applicable:,}'] for k, i in folded])
                     + '</details>')
    parts.append('<p class="note">获得人数：结果为金额且大于 0 的申请人（有记录表时，括号里是其中获得金额的记录数，如产品数；最高可获人数同样）；分配后：扣除名额与资金池削减（无名额与资金池的项「同左」）；'
                 '达到上限：金额（或最高可获金额）等于该项的常数上限；最高可获：原文只给出最高额或最高比例，实际金额以审核为准，单独合计。</p>')
    for title, rows in rep.breakdowns:
        parts.append(f'<h2>按{_e(title)}合计</h2>')
        parts.append(_table([title, '项数', '申请额（万元）', '分配后（万元）'],
                            [[name, n, wan(b), wan(a)] for name, n, b, a in rows if b or a]
                            or [['（全部为 0）', '', '', '']], 'by'))
        if title == '责任单位':
            parts.append('<p class="note">一项有几个责任单位时，该项金额计入每一个单位，各单位之和可能大于应发合计。</p>')
    parts.append('<h2>名额与资金池</h2>')
    if rep.shared:
        parts.append(_table(['项', '每年名额', '每年总额（万元）', '分配规则', '申请', '获得', '申请额（万元）',
                             '分配合计（万元）', '被削减'],
                            [[s.name, s.quota if s.quota is not None else '—', _dash(s.pool), s.rule,
                              f'{s.shared.claims:,}', f'{s.shared.recipients:,}', wan(s.shared.claimed),
                              wan(s.shared.granted), f'{s.shared.cut:,}'] for s in rep.shared]))
        parts.append('<p class="note">分配合计含最高可获的申请；逐个申请人的分配与削减原因：'
                     '<code>polc eval … --allocation 文件</code>。</p>')
        for s in rep.shared:
            if not s.cuts:
                continue
            more = f'（共 {s.shared.cut:,} 个，列出前 {len(s.cuts)} 个）' if s.shared.cut > len(s.cuts) else ''
            parts.append(f'<h3>{_e(s.name)}：被削减的申请{_e(more)}</h3>')
            head = ['行号'] + ([rep.id_column] if rep.id_column else []) + ['计算金额（万元）', '分配金额（万元）', '原因']
            parts.append(_table(head, [[c.row] + ([c.ident or ''] if rep.id_column else [])
                                       + [wan(c.claimed), wan(c.granted), c.reason] for c in s.cuts], 'cuts'))
    else:
        parts.append('<p>本政策没有声明名额或资金池。</p>')
    parts += ['<h2>每个申请人应得合计的分布</h2>',
              _bars(HISTOGRAM_CHART, [(label, Decimal(n)) for label, n in rep.histogram], '申请人数',
                    '每人应得合计', lambda v: f'{int(v):,} 人'),
              _table(['应得合计', '人数'], [[label, f'{n:,}'] for label, n in rep.histogram]),
              f'<h2>应得最多的 {len(rep.top)} 个申请人</h2>',
              '<p class="note">每个申请人单独计算（未扣名额与资金池）。</p>',
              _table(['行号'] + ([rep.id_column] if rep.id_column else [])
                     + ['应得合计（万元）', '金额最大的项', '该项金额（万元）'],
                     [[r] + ([i or ''] if rep.id_column else []) + [wan(t), n, wan(a)] for r, i, t, n, a in rep.top]),
              '</body></html>']
    return '\n'.join(parts) + '\n'
