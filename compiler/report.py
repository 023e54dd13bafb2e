"""The budget report (``polc report``): what a whole table of applicants would cost.

Stages: the table is evaluated by a batch engine into a results table (the same columns from
either engine); :func:`aggregate` sums it with DuckDB into a :class:`Report` (exact DECIMALs);
:func:`render_html` writes a self-contained page — tables for checking, inline SVG charts for
looking, no script and no network; :func:`render_png` has headless Chromium draw that page.
"""
from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Optional

import attrs

from polc.dsl import ast as A
from polc.dsl.units import format_money

from . import runtime as R
from .allocation import Shared
from .sql import quote, string

ZERO = Decimal(0)
# per-applicant totals are counted in these bins (元; upper bound inclusive)
BINS = ((Decimal(0), Decimal(0)), (Decimal('0.01'), Decimal(10 ** 5)), (Decimal(10 ** 5), Decimal(10 ** 6)),
        (Decimal(10 ** 6), Decimal(10 ** 7)), (Decimal(10 ** 7), Decimal(10 ** 8)), (Decimal(10 ** 8), None))
BIN_LABELS = ('0元', '0–10万元', '10万–100万元', '100万–1000万元', '1000万–1亿元', '1亿元以上')


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


@attrs.frozen
class Report:
    policy: str
    date: str
    applicants: int
    total: Decimal
    ceiling_total: Decimal
    items: tuple[ItemLine, ...]
    kinds: tuple[tuple[str, Decimal], ...]
    shared: tuple[tuple[str, Optional[int], Optional[Decimal], str, Shared], ...]
    histogram: tuple[tuple[str, int], ...]
    top: tuple[tuple[int, Optional[str], Decimal, str, Decimal], ...]   # row, id, total, item, amount
    id_column: Optional[str] = None


def constant_cap(amount) -> Optional[Decimal]:
    """The cap of an item's amount when it is written as 「… 最高 <constant>」 (also inside 最高可获)."""
    if isinstance(amount, A.Ceiling):
        amount = amount.value
    if isinstance(amount, A.Cap) and isinstance(amount.limit, A.Money):
        return Decimal(amount.limit.value)
    return None


def aggregate(compiled, results_path: str, allocations: dict, date: str, id_column: Optional[str] = None,
              top: int = 10) -> Report:
    """Sum a results table (``polc eval --out`` columns, CSV or Parquet) into a report."""
    try:
        import duckdb
    except ImportError:
        raise ReportError("polc report 需要 duckdb：pip install 'polc[batch]'") from None
    con = duckdb.connect()
    reader = 'read_parquet' if str(results_path).endswith('.parquet') else 'read_csv'
    extra = ', all_varchar = true, header = true' if reader == 'read_csv' else ''
    con.execute(f'CREATE VIEW r AS SELECT * FROM {reader}({string(str(results_path))}{extra})')
    items = [(c, it) for c, it in compiled.analysis.checked.policy.items()]
    infos = {info['name']: info for info, _f in compiled.namespace['ITEMS']}

    def money(col):
        return f"CAST(NULLIF(CAST({quote(col)} AS VARCHAR), '') AS DECIMAL(38, 2))"

    lines, kinds = [], {}
    parts = ['count(*)', f"COALESCE(SUM({money('合计')}), 0)"]
    for _c, it in items:
        o, a = quote(it.name.text + '.结果'), money(it.name.text + '.金额')
        cap = constant_cap(it.amount)
        parts += [f"count(*) FILTER (WHERE {o} = '{R.AMOUNT}' AND {a} > 0)",
                  f"COALESCE(SUM({a}) FILTER (WHERE {o} = '{R.AMOUNT}'), 0)",
                  f"count(*) FILTER (WHERE {o} IN ('{R.AMOUNT}', '{R.CEILING}') AND {a} = {cap})"
                  if cap is not None else 'NULL',
                  f"count(*) FILTER (WHERE {o} = '{R.CEILING}')",
                  f"COALESCE(SUM({a}) FILTER (WHERE {o} = '{R.CEILING}'), 0)",
                  f"count(*) FILTER (WHERE {o} = '{R.NOT_APPLICABLE}')"]
    row = con.execute(f'SELECT {", ".join(parts)} FROM r').fetchone()
    applicants, total = row[0], Decimal(row[1])
    ceiling_total = ZERO
    for k, (c, it) in enumerate(items):
        n, s, at_cap, nc, sc, na = row[2 + 6 * k: 8 + 6 * k]
        info = infos[it.name.text]
        line = ItemLine(c.number, it.name.text, info['kind'], constant_cap(it.amount), n, Decimal(s), at_cap,
                        nc, Decimal(sc), na)
        lines.append(line)
        kinds[info['kind']] = kinds.get(info['kind'], ZERO) + line.total
        ceiling_total += line.ceiling_total
    # the distribution of per-applicant totals
    t = money('合计')
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
    for r in con.execute(f'SELECT "行号"{ident}, {t}, {amounts or "NULL"} FROM r WHERE {t} > 0 '
                         f'ORDER BY {t} DESC, "行号" LIMIT {int(top)}').fetchall():
        values = [(Decimal(v), it.name.text) for v, (_c, it) in zip(r[3:], items) if v is not None]
        amount, name = max(values, key=lambda x: x[0]) if values else (ZERO, '')
        name = next((n for v, n in values if v == amount), name)        # first of equals
        best.append((int(r[0]), r[1], Decimal(r[2]), name, amount))
    shared = tuple((name, infos[name].get('quota'), Decimal(infos[name]['pool']) if infos[name].get('pool') else None,
                    infos[name].get('allocation') or '按申请顺序', sh) for name, sh in allocations.items())
    return Report(compiled.name, date, applicants, total, ceiling_total, tuple(lines), tuple(kinds.items()),
                  shared, tuple(zip(BIN_LABELS, counts)), tuple(best), id_column)


# ------------------------------------------------------------------ HTML
def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _bars(title: str, rows: list[tuple[str, Decimal]], unit: str, fmt) -> str:
    """A horizontal bar chart as inline SVG (values are drawn as widths; the exact numbers are
    the labels)."""
    width, label_w, bar_w, row_h = 900, 260, 460, 26
    height = 40 + row_h * max(len(rows), 1) + 30
    top = max((v for _l, v in rows), default=ZERO)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"><title>{_e(title)}</title>',
           f'<text x="0" y="20" class="chart-title">{_e(title)}</text>']
    for i, (label, v) in enumerate(rows):
        y = 40 + i * row_h
        w = 0 if top == 0 else int((v / top * bar_w).to_integral_value())
        out.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{_e(label)}</text>'
                   f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" class="bar"/>'
                   f'<text x="{label_w + w + 6}" y="{y + 17}">{_e(fmt(v))}</text>')
    y = 40 + row_h * len(rows) + 20
    out.append(f'<text x="{label_w}" y="{y}" class="axis">{_e(unit)}</text></svg>')
    return ''.join(out)


def _table(head: list[str], rows: list[list]) -> str:
    out = ['<table><thead><tr>' + ''.join(f'<th>{_e(h)}</th>' for h in head) + '</tr></thead><tbody>']
    for r in rows:
        out.append('<tr>' + ''.join(f'<td>{_e(c)}</td>' for c in r) + '</tr>')
    out.append('</tbody></table>')
    return ''.join(out)


_CSS = ('body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;margin:2em;'
        'color:#222}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:4px 8px;'
        'text-align:right}th{background:#eee}td:first-child,td:nth-child(2){text-align:left}.bar{fill:#3b6ea5}'
        '.chart{font-size:13px;margin:1em 0}.chart-title{font-size:15px;font-weight:bold}.axis{fill:#555}'
        '.summary td{text-align:left}')


def render_html(rep: Report) -> str:
    fm = format_money
    parts = ['<!DOCTYPE html>', '<html lang="zh-CN"><head><meta charset="utf-8">',
             f'<title>{_e(rep.policy)}：预算报告</title><style>{_CSS}</style></head><body>',
             f'<h1>{_e(rep.policy)}：预算报告</h1>',
             '<table class="summary"><tbody>'
             f'<tr><th>评估日期</th><td>{_e(rep.date)}</td></tr>'
             f'<tr><th>申请人数</th><td id="applicants">{rep.applicants}</td></tr>'
             f'<tr><th>应得合计</th><td id="total">{_e(fm(rep.total))}</td></tr>'
             f'<tr><th>最高可获合计（以审核为准，未计入应得合计）</th><td>{_e(fm(rep.ceiling_total))}</td></tr>'
             '</tbody></table>',
             '<h2>各项合计</h2>',
             _bars('各项应得金额合计', [(f'{i.clause} {i.name}', i.total) for i in rep.items if i.total > 0],
                   '金额（元）', fm),
             _table(['条款', '项', '类别', '获得人数', '应得合计', '上限', '达到上限', '最高可获人数', '最高可获合计',
                     '不适用'],
                    [[i.clause, i.name, i.kind, i.recipients, fm(i.total), fm(i.cap) if i.cap is not None else '—',
                      i.at_cap if i.at_cap is not None else '—', i.ceilings, fm(i.ceiling_total), i.not_applicable]
                     for i in rep.items]),
             '<h2>按类别合计</h2>',
             _table(['类别', '应得合计'], [[k, fm(v)] for k, v in rep.kinds]),
             '<h2>名额与资金池</h2>']
    if rep.shared:
        parts.append(_table(['项', '每年名额', '每年总额', '分配规则', '申请', '获得', '计算合计', '分配合计', '被削减'],
                            [[n, q if q is not None else '—', fm(p) if p is not None else '—', rule, sh.claims,
                              sh.recipients, fm(sh.claimed), fm(sh.granted), sh.cut]
                             for n, q, p, rule, sh in rep.shared]))
        parts.append('<p>分配合计是按名额与资金池分配后的金额；上面的「应得合计」是每个申请人单独计算的金额，未扣除名额与资金池的削减。'
                     '逐个申请人的分配与削减原因：<code>polc eval … --allocation 文件</code>。</p>')
    else:
        parts.append('<p>本政策没有声明名额或资金池。</p>')
    parts += ['<h2>每个申请人应得合计的分布</h2>',
              _bars('申请人数（按应得合计分段）', [(label, Decimal(n)) for label, n in rep.histogram], '人数',
                    lambda v: f'{int(v)} 人'),
              _table(['应得合计', '人数'], [[label, n] for label, n in rep.histogram]),
              f'<h2>应得最多的 {len(rep.top)} 个申请人</h2>',
              _table(['行号'] + ([rep.id_column] if rep.id_column else []) + ['应得合计', '金额最大的项', '该项金额'],
                     [[r] + ([i or ''] if rep.id_column else []) + [fm(t), n, fm(a)] for r, i, t, n, a in rep.top]),
              '</body></html>']
    return '\n'.join(parts) + '\n'


def chromium() -> Optional[str]:
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'chrome'):
        path = shutil.which(name)
        if path:
            return path
    return None


def headless(args: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    """Run headless Chromium (a throw-away profile, no sandbox: it may run as root in CI)."""
    exe = chromium()
    if exe is None:
        raise ReportError('导出 PNG 需要 Chromium（Debian：apt-get install chromium），未找到')
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([exe, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                               f'--user-data-dir={profile}'] + args, capture_output=True, text=True,
                              timeout=timeout)


def page_height(rep: Report) -> int:
    """Enough pixels for the whole page: the charts, then one table row per line."""
    rows = 2 * len(rep.items) + len(rep.kinds) + len(rep.shared) + 2 * len(rep.histogram) + len(rep.top)
    return 900 + 34 * rows


def render_png(html_path: str, png_path: str, width: int = 1000, height: int = 2400) -> None:
    """The page (its charts and tables) drawn by headless Chromium into a PNG."""
    target = Path(png_path).resolve()
    if not target.parent.is_dir():
        raise ReportError(f'{png_path}：目录不存在，无法写入 PNG')
    if target.exists():
        target.unlink()
    r = headless([f'--window-size={width},{height}', f'--screenshot={target}', Path(html_path).resolve().as_uri()])
    if not target.exists():
        last = (r.stderr or '').strip().splitlines()[-1:] or ['无输出']
        raise ReportError(f'Chromium 没有生成 PNG：{last[0]}')
