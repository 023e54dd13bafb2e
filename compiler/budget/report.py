"""The budget report (``polc report``): what a whole table of applicants would cost.

Stages: the table is evaluated by a batch engine into a results table (the same columns from
either engine); :func:`aggregate` (aggregate.py) sums it with DuckDB into a :class:`Report`
(exact DECIMALs); :func:`render_html` (html.py) writes a self-contained page — tables for
checking, inline SVG charts for looking, no script and no network; :func:`render_png` (here)
draws the same two charts with matplotlib (the optional extra ``polc[report]``); export.py
writes the summary tables as CSV or Excel.
"""
from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from polc.compiler.budget.aggregate import (  # noqa: F401  (the report's public names, in one place)
    BIN_LABELS, BIN_LABELS_ASCII, BINS, HISTOGRAM_CHART, ITEM_CHART, ZERO, Cut, ItemLine, Report, ReportError,
    SharedLine, _item_bars, aggregate, breakdown, constant_cap)
from polc.compiler.budget.html import render_html  # noqa: F401
from polc.compiler.budget.numbers import money_text

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


def render_png(rep: Report, path: str, shown: Optional[str] = None) -> None:
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
    shown = shown or path               # the name the user gave (``path`` may be a temporary file)
    if not target.resolve().parent.is_dir():
        raise ReportError(f'{shown}：目录不存在，无法写入 PNG')
    font = cjk_font()
    fp = FontProperties(fname=font) if font else None
    bars = _item_bars(rep)
    if font:
        labels = [label for label, _v in bars]
        titles = (f'{rep.policy}：{ITEM_CHART}（{rep.date}）', HISTOGRAM_CHART)
        axes = (('应得金额合计（万元）', '条款与项'), ('每人应得合计', '申请人数'))
        bins = [label for label, _n in rep.histogram]
        value_text = money_text
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
        raise ReportError(f'{shown}：无法写入 PNG（{exc.strerror}）；原有文件保持不变') from None

