"""Commands on whole tables: batch evaluation (eval --out), report, sql."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from polc.dsl.units import format_money

from polc.compiler.cli.common import (EXIT_DIAG, EXIT_USAGE, day_or_exit, echo_err, load_or_exit)


def batch_or_exit(compiled, facts_path, out_path, date, id_column, skip_bad, rejects_path,
                   allocation_path=None, engine='python'):
    from polc.dsl.units import format_money
    from polc.compiler.tables.io import BatchError
    from polc.compiler.tables.rowwise import run_batch
    if out_path is None:
        echo_err('错误[E-USAGE]: 批量计算需要 --out 结果文件（.csv、.jsonl 或 .parquet）')
        sys.exit(EXIT_USAGE)
    bar = progress_bar(facts_path) if sys.stderr.isatty() else None
    try:
        if engine == 'duckdb':
            from polc.compiler.sql.engine import run_duckdb
            summary = run_duckdb(compiled, facts_path, out_path, date, id_column, skip_bad, rejects_path,
                                 allocation_path=allocation_path)
        else:
            summary = run_batch(compiled, facts_path, out_path, date, id_column, skip_bad, rejects_path,
                                progress=bar, allocation_path=allocation_path)
            if bar is not None:
                bar.finish()
    except BatchError as exc:
        if bar is not None:
            bar.finish()
        echo_err(f'错误[E-FACTS]: {exc}')
        sys.exit(EXIT_USAGE)
    click.echo(f'计算了 {summary.written} 行，写入 {out_path}'
               + (f'；跳过有错误的行 {summary.rejected} 行' if summary.rejected else '')
               + f'；应得合计 {format_money(summary.total)}')
    for name, sh in summary.allocations.items():
        click.echo(f'「{name}」：{sh.claims} 个申请，{sh.recipients} 个获得，合计 '
                   f'{format_money(sh.granted)}；{sh.cut} 个被削减')


class ProgressBar:
    """A progress bar on standard error for a large input (a terminal only; the results go to --out)."""

    def __init__(self):
        self.drawn = False

    def __call__(self, rows: int, fraction: float) -> None:
        done = int(fraction * 30)
        click.echo(f'\r[{"█" * done}{"·" * (30 - done)}] {fraction:6.1%}  已计算 {rows:,} 行', err=True, nl=False)
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            click.echo('', err=True)


def progress_bar(path: str, large: int = 5 * 2 ** 20):
    try:
        return ProgressBar() if Path(path).stat().st_size >= large else None
    except OSError:
        return None


@click.command()
@click.argument('file')
@click.option('--facts', 'facts_path', required=True, help='申请人表格：.csv、.jsonl 或 .parquet')
@click.option('--out', 'out_path', required=True, help='报告文件（.html）')
@click.option('--png', 'png_path', default=None, help="另把两张图导出为 PNG（需要 matplotlib：pip install 'polc[report]'）")
@click.option('--date', 'date', default=None, help='评估日期（如 2025-03-01）；默认今天')
@click.option('--engine', type=click.Choice(['duckdb', 'python']), default='duckdb',
              help='整表计算的引擎：duckdb（默认）或 python（逐行）')
@click.option('--id-column', default=None, help='申请人编号所在的列（显示在「应得最多」表中）')
@click.option('--top', default=10, type=click.IntRange(1, 1000), help='列出应得最多的前 N 个申请人（默认 10）')
def report(file, facts_path, out_path, png_path, date, engine, id_column, top):
    """预算报告：整张申请人表的各项合计、获得人数、达到上限、名额与资金池削减、金额分布图与应得最多的申请人。"""
    import tempfile
    from polc.compiler.tables.io import BatchError
    from polc.compiler.tables.rowwise import run_batch
    from polc.compiler.budget.report import PNG_MISSING, ReportError, aggregate, png_available, render_html, render_png
    compiled = load_or_exit(file)
    day = day_or_exit(date)
    if not out_path.lower().endswith(('.html', '.htm')):
        echo_err(f'错误[E-USAGE]: {out_path}：报告应写到 .html 文件')
        sys.exit(EXIT_USAGE)
    if png_path:                        # said before any work is done
        if not png_available():
            echo_err(f'错误[E-REPORT]: {PNG_MISSING}')
            sys.exit(EXIT_USAGE)
        if not Path(png_path).resolve().parent.is_dir():
            echo_err(f'错误[E-REPORT]: {png_path}：目录不存在，无法写入 PNG')
            sys.exit(EXIT_USAGE)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = str(Path(tmp) / 'results.csv')
            if engine == 'duckdb':
                from polc.compiler.sql.engine import run_duckdb
                summary = run_duckdb(compiled, facts_path, results, day.isoformat(), id_column)
            else:
                summary = run_batch(compiled, facts_path, results, day.isoformat(), id_column)
            rep = aggregate(compiled, results, summary.allocations, day.isoformat(), id_column, top)
        Path(out_path).write_text(render_html(rep), encoding='utf-8')
        if png_path:
            render_png(rep, png_path)
    except BatchError as exc:
        echo_err(f'错误[E-FACTS]: {exc}')
        sys.exit(EXIT_USAGE)
    except ReportError as exc:
        echo_err(f'错误[E-REPORT]: {exc}')
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        echo_err(f'错误[E-IO]: 无法写入（{exc.strerror}）：{exc.filename}')
        sys.exit(EXIT_USAGE)
    click.echo(f'已生成 {out_path}：{rep.applicants} 个申请人，应得合计 {format_money(rep.total)}'
               + (f'；PNG：{png_path}' if png_path else ''))


@click.command()
@click.argument('file')
@click.option('--date', 'date', default=None, help='评估日期（如 2025-03-01）；默认今天。有效期在生成时判定')
@click.option('--dialect', default='duckdb',
              help='SQL 方言：duckdb（默认，原样输出）；spark、trino、postgres 等由 sqlglot 转写')
@click.option('--table', 'table', default='facts', help='事实表的表名（每个输入一列，另有「行号」列）')
def sql(file, date, dialect, table):
    """输出政策编译成的 SQL 查询：从事实表计算每个申请人各项结果、金额与合计。"""
    from polc.compiler.sql.generate import SqlUnsupported, UnknownDialect, policy_sql, to_dialect
    compiled = load_or_exit(file)
    day = day_or_exit(date)
    try:
        query = policy_sql(compiled.analysis.checked, day, table)
        for kind in compiled.records:
            click.echo(f'-- 「{kind}」：事实表每行是一个申请人、一个{kind}（{kind}的输入是列）；'
                       f'一个申请人多个{kind}的{kind}表与申请人表关联尚不支持')
        click.echo(to_dialect(query, dialect))
    except UnknownDialect as exc:
        echo_err(f'错误[E-USAGE]: {exc}')
        sys.exit(EXIT_USAGE)
    except SqlUnsupported as exc:
        echo_err(f'{file}: 错误[E-SQL]: {exc}')
        sys.exit(EXIT_DIAG)
