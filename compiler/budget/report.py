"""The budget report (``polc report``): what a whole table of applicants would cost.

Stages: the table is evaluated by a batch engine into a results table (the same columns from
either engine); :func:`aggregate` sums it with DuckDB into a :class:`Report` (exact DECIMALs);
:func:`render_html` writes a self-contained page — tables for checking, inline SVG charts for
looking, no script and no network; :func:`render_png` draws the same two charts with matplotlib
(the optional extra ``polc[report]``).
"""
from __future__ import annotations

import functools
import html
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Optional, Union

import attrs

from polc.dsl import ast as A
from polc.dsl.units import format_money

from polc.compiler.python import runtime as R
from polc.compiler.tables.allocation import Grant, Shared, allocate, shared
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
              top: int = 10) -> Report:
    """Sum a results table (``polc eval --out`` columns: 行号, the id column, N.结果 and N.金额 for
    each item, 合计; CSV or Parquet, from either engine) into a report.

    ``allocations`` maps each item with a quota or pool to how it was shared: a :class:`Shared`
    (``BatchSummary.allocations``) or the list of :class:`Grant` itself.  The reasons of the cut
    claims are taken from the Grants; given only a Shared, the claims are read back from the
    results table and shared again by the same rule (:func:`allocate`)."""
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
        cap = item_cap(it)
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
        line = ItemLine(c.number, it.name.text, info['kind'], item_cap(it), n, Decimal(s), at_cap,
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
    # (行号 as a number: a CSV read as text would put row 10 before row 2)
    for r in con.execute(f'SELECT "行号"{ident}, {t}, {amounts or "NULL"} FROM r WHERE {t} > 0 '
                         f'ORDER BY {t} DESC, CAST("行号" AS BIGINT) LIMIT {int(top)}').fetchall():
        values = [(Decimal(v), it.name.text) for v, (_c, it) in zip(r[3:], items) if v is not None]
        amount, name = max(values, key=lambda x: x[0]) if values else (ZERO, '')
        name = next((n for v, n in values if v == amount), name)        # first of equals
        best.append((int(r[0]), r[1], Decimal(r[2]), name, amount))
    shared_lines = tuple(_shared_line(con, money, infos[name], given, id_column, top)
                         for name, given in allocations.items())
    return Report(compiled.name, date, applicants, total, ceiling_total, tuple(lines), tuple(kinds.items()),
                  shared_lines, tuple(zip(BIN_LABELS, counts)), tuple(best), id_column)


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
    rows = con.execute(f'SELECT CAST("行号" AS BIGINT), {amount}{ident} FROM r WHERE {amount} > 0 '
                       f'ORDER BY CAST("行号" AS BIGINT)').fetchall()
    idents = {int(r[0]): r[2] for r in rows}
    if isinstance(given, Shared):
        grants = allocate([(int(r[0]), Decimal(r[1])) for r in rows], quota, pool, info.get('allocation', ''))
        if shared(grants) != given:
            raise RuntimeError(f'{name}：结果表中的申请与分配摘要不一致（{shared(grants)} ≠ {given}）')
        numbers = given
    else:
        grants, numbers = list(given), shared(list(given))
    cuts = tuple(Cut(g.row, idents.get(g.row), g.claimed, g.granted, g.reason)
                 for g in grants if g.granted < g.claimed)[:top]
    return SharedLine(name, quota, pool, rule, numbers, cuts)


# ------------------------------------------------------------------ HTML
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
        '.items td:nth-child(-n+3){text-align:left}.cuts td:last-child{text-align:left}')

ITEM_CHART = '各项应得金额合计'
HISTOGRAM_CHART = '申请人数（按每人应得合计分段）'


def _item_bars(rep: Report) -> list[tuple[str, Decimal]]:
    return [(f'{i.clause} {i.name}', i.total) for i in rep.items if i.total > 0]


def render_html(rep: Report) -> str:
    """The report as one self-contained HTML5 page (UTF-8, no script, nothing fetched)."""
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
             _bars(ITEM_CHART, _item_bars(rep), '应得金额合计（元）', '条款与项', fm),
             _table(['序号', '条款', '项', '类别', '获得人数', '应得合计', '上限', '达到上限', '最高可获人数',
                     '最高可获合计', '不适用'],
                    [[k, i.clause, i.name, i.kind, i.recipients, fm(i.total), fm(i.cap) if i.cap is not None else '—',
                      i.at_cap if i.at_cap is not None else '—', i.ceilings, fm(i.ceiling_total), i.not_applicable]
                     for k, i in enumerate(rep.items, start=1)], 'items'),
             '<p>获得人数：结果为金额且大于 0 的申请人；达到上限：金额（或最高可获金额）等于该项的常数上限；'
             '最高可获：原文只给出最高额或最高比例，实际金额以审核为准，单独合计。</p>',
             '<h2>按类别合计</h2>',
             _table(['类别', '应得合计'], [[k, fm(v)] for k, v in rep.kinds]),
             '<h2>名额与资金池</h2>']
    if rep.shared:
        parts.append(_table(['项', '每年名额', '每年总额', '分配规则', '申请', '获得', '计算合计', '分配合计', '被削减'],
                            [[s.name, s.quota if s.quota is not None else '—', fm(s.pool) if s.pool is not None
                              else '—', s.rule, s.shared.claims, s.shared.recipients, fm(s.shared.claimed),
                              fm(s.shared.granted), s.shared.cut] for s in rep.shared]))
        parts.append('<p>分配合计是按名额与资金池分配后的金额；上面的「应得合计」是每个申请人单独计算的金额，未扣除名额与资金池的削减。'
                     '逐个申请人的分配与削减原因：<code>polc eval … --allocation 文件</code>。</p>')
        for s in rep.shared:
            if not s.cuts:
                continue
            shown = f'（共 {s.shared.cut} 个，列出前 {len(s.cuts)} 个）' if s.shared.cut > len(s.cuts) else ''
            parts.append(f'<h3>{_e(s.name)}：被削减的申请{_e(shown)}</h3>')
            head = ['行号'] + ([rep.id_column] if rep.id_column else []) + ['计算金额', '分配金额', '原因']
            parts.append(_table(head, [[c.row] + ([c.ident or ''] if rep.id_column else [])
                                       + [fm(c.claimed), fm(c.granted), c.reason] for c in s.cuts], 'cuts'))
    else:
        parts.append('<p>本政策没有声明名额或资金池。</p>')
    parts += ['<h2>每个申请人应得合计的分布</h2>',
              _bars(HISTOGRAM_CHART, [(label, Decimal(n)) for label, n in rep.histogram], '申请人数',
                    '每人应得合计', lambda v: f'{int(v)} 人'),
              _table(['应得合计', '人数'], [[label, n] for label, n in rep.histogram]),
              f'<h2>应得最多的 {len(rep.top)} 个申请人</h2>',
              _table(['行号'] + ([rep.id_column] if rep.id_column else []) + ['应得合计', '金额最大的项', '该项金额'],
                     [[r] + ([i or ''] if rep.id_column else []) + [fm(t), n, fm(a)] for r, i, t, n, a in rep.top]),
              '</body></html>']
    return '\n'.join(parts) + '\n'


# ------------------------------------------------------------------ PNG (matplotlib)
PNG_MISSING = "导出 PNG 需要 matplotlib：pip install 'polc[report]'"


def png_available() -> bool:
    """Whether matplotlib can be imported (``--png`` needs it)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def cjk_font() -> Optional[str]:
    """A font file that covers Chinese (``fc-list :lang=zh``; else a known family that matplotlib
    has found), or None."""
    from matplotlib import font_manager
    files = []
    exe = shutil.which('fc-list')
    if exe:
        try:
            out = subprocess.run([exe, ':lang=zh', 'file'], capture_output=True, text=True, timeout=30).stdout
            files = sorted({line.split(':', 1)[0].strip() for line in out.splitlines() if line.strip()})
        except (OSError, subprocess.SubprocessError):
            files = []
    known = ('Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'WenQuanYi Zen Hei', 'Noto Sans SC',
             'SimHei', 'Microsoft YaHei', 'PingFang SC', 'Heiti SC', 'AR PL UMing CN', 'Droid Sans Fallback')
    files += sorted(f.fname for f in font_manager.fontManager.ttflist if f.name in known)
    for path in files:
        try:
            font_manager.FontProperties(fname=path).get_name()
            font_manager.get_font(path)
        except Exception:       # a font matplotlib cannot read: try the next
            continue
        return path
    return None


def render_png(rep: Report, path: str) -> None:
    """The page's two charts — the total of each item and the distribution of per-applicant totals —
    drawn with matplotlib (Agg, no display) into one PNG.  Chinese labels need a CJK font
    (:func:`cjk_font`); without one the labels are ASCII (items by their 序号 in the HTML table)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.font_manager import FontProperties
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ReportError(PNG_MISSING) from None
    target = Path(path)
    if not target.resolve().parent.is_dir():
        raise ReportError(f'{path}：目录不存在，无法写入 PNG')
    font = cjk_font()
    fp = FontProperties(fname=font) if font else None
    bars = _item_bars(rep)
    if font:
        labels = [label for label, _v in bars]
        titles = (f'{rep.policy}：{ITEM_CHART}（{rep.date}）', HISTOGRAM_CHART)
        axes = (('应得金额合计（万元）', '条款与项'), ('每人应得合计', '申请人数'))
        bins = [label for label, _n in rep.histogram]
        value_text = format_money
    else:
        numbered = {f'{i.clause} {i.name}': k for k, i in enumerate(rep.items, start=1)}
        labels = [f'item {numbered[label]}' for label, _v in bars]
        titles = (f'Total per item ({rep.date})', 'Applicants by total amount')
        axes = (('total (10k CNY)', 'item no. (HTML table)'), ('total per applicant (CNY)', 'applicants'))
        bins = list(BIN_LABELS_ASCII[:len(rep.histogram)])
        value_text = (lambda v: f'{v:,.2f}')              # Decimal formatting, no float
    n = max(len(bars), 1)
    fig = Figure(figsize=(10, 1.4 + 0.38 * n + 3.6), dpi=100, layout='constrained')
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 1, height_ratios=[1.4 + 0.38 * n, 3.6])
    ax1, ax2 = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    # Bar lengths are handed to matplotlib as Decimals (it draws in floating point itself); the
    # numbers written on the chart are formatted from the exact Decimals.
    widths = [v / 10000 for _l, v in bars]
    ys = list(range(len(bars)))
    ax1.barh(ys, widths, color='#3b6ea5')
    ax1.set_yticks(ys, labels, fontproperties=fp)
    ax1.invert_yaxis()
    for y, (_l, v), w in zip(ys, bars, widths):
        ax1.text(w, y, ' ' + value_text(v), va='center', fontproperties=fp, fontsize=9)
    if not bars:
        ax1.set_yticks([])
        ax1.text(0.5, 0.5, '（无）' if font else '(none)', ha='center', va='center', transform=ax1.transAxes,
                 fontproperties=fp)
    ax1.margins(x=0.25)
    ax1.set_title(titles[0], fontproperties=fp)
    ax1.set_xlabel(axes[0][0], fontproperties=fp)
    ax1.set_ylabel(axes[0][1], fontproperties=fp)
    counts = [c for _label, c in rep.histogram]
    xs = list(range(len(counts)))
    ax2.bar(xs, counts, color='#3b6ea5')
    ax2.set_xticks(xs, bins, fontproperties=fp)
    for x, c in zip(xs, counts):
        ax2.text(x, c, str(c), ha='center', va='bottom', fontsize=9)
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.margins(y=0.15)
    ax2.set_title(titles[1], fontproperties=fp)
    ax2.set_xlabel(axes[1][0], fontproperties=fp)
    ax2.set_ylabel(axes[1][1], fontproperties=fp)
    try:
        # no Software/date metadata: the same report gives the same bytes
        fig.savefig(str(target), format='png', metadata={'Software': None})
    except OSError as exc:
        raise ReportError(f'{path}：无法写入 PNG（{exc.strerror}）') from None
