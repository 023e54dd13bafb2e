"""Commands on whole tables: batch evaluation (eval --out), report, sql."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from polc.compiler.budget.numbers import money_text
from polc.compiler.cli.common import (EXIT_DIAG, EXIT_USAGE, day_or_exit, distinct_or_exit, echo_err, exit_on,
                                      load_or_exit)
from polc.compiler.engines import DEFAULT_ENGINE, choose_engine, run_flat


def run_table(compiled, facts_path, out_path, date, id_column=None, skip_bad=False, rejects_path=None,
              allocation_path=None, engine=None, sheet=None, records=(), records_out=None, compact=False,
              explain=False):
    """Evaluate a table on the chosen engine (``None``: the default, which may fall back to the
    per-row engine with a notice on stderr), with a progress bar on a terminal (rate and ETA).
    ``records``: the ``--records KIND=FILE`` options (record tables joined by ``id_column``)."""
    from polc.compiler.cli.progress import Progress
    if records or records_out:
        from polc.compiler.engines import refuse_with_records, run_records
        from polc.compiler.tables.records import parse_record_options
        refuse_with_records(compact, explain)
        tables = parse_record_options(compiled, records)
        with Progress('计算') as bar:
            return run_records(compiled, facts_path, out_path, date, engine, id_column, skip_bad, rejects_path,
                               allocation_path, sheet, tables, records_out,
                               progress=bar.rows if bar.shown else None)
    engine, notice = choose_engine(compiled, engine, date, facts_path, explain)
    if notice:
        echo_err(notice)
    with Progress('计算' if engine == 'python' else '计算（DuckDB）') as bar:
        return run_flat(compiled, engine, facts_path, out_path, date, id_column, skip_bad, rejects_path,
                        allocation_path, sheet, compact, explain, rows=bar.rows if bar.shown else None,
                        fraction=bar.update if bar.shown else None)


def batch_or_exit(compiled, facts_path, out_path, date, id_column, skip_bad, rejects_path,
                  allocation_path=None, engine=None, sheet=None, records=(), records_out=None, compact=False,
                  explain=False):
    from polc.compiler.tables.io import FORMAT_NAMES, BatchError
    if out_path is None:
        echo_err(f'错误[E-USAGE]: 批量计算需要 --out 结果文件（{FORMAT_NAMES}）')
        sys.exit(EXIT_USAGE)
    with exit_on((BatchError, lambda e: f'错误[{e.code}]: {e}')):
        summary = run_table(compiled, facts_path, out_path, date, id_column, skip_bad, rejects_path,
                            allocation_path, engine, sheet, records, records_out, compact, explain)
    if summary.note:
        echo_err(f'注意：{summary.note}')
    line = (f'计算了 {summary.written:,} 行，写入 {out_path}'
            + (f'；跳过有错误的行 {summary.rejected:,} 行' if summary.rejected else ''))
    if summary.allocations:
        line += (f'；名额与资金池分配后应发合计 {money_text(summary.paid)}'
                 f'（每个申请人单独计算的申请额合计 {money_text(summary.total)}；结果表的「实发合计」列是分配后的金额，'
                 f'「应得合计（削减前）」列是申请额）')
    else:
        line += f'；应得合计 {money_text(summary.total)}'
    click.echo(line)
    kinds = {info['name']: info.get('per_record') for info, _f in compiled.namespace['ITEMS']} if summary.grants else {}
    for name, sh in summary.allocations.items():
        if kinds.get(name):
            k = kinds[name]
            click.echo(f'「{name}」：{sh.claims:,} 个{k}申请，{sh.recipients:,} 个{k}获得，分配合计 '
                       f'{money_text(sh.granted)}（申请 {money_text(sh.claimed)}）；{sh.cut:,} 个{k}被削减')
            continue
        click.echo(f'「{name}」：{sh.claims:,} 个申请，{sh.recipients:,} 个获得，分配合计 '
                   f'{money_text(sh.granted)}（申请 {money_text(sh.claimed)}）；{sh.cut:,} 个被削减')


@click.command()
@click.argument('file')
@click.option('--facts', 'facts_path', required=True, help='申请人表格：.csv、.jsonl、.parquet 或 .xlsx')
@click.option('--sheet', default=None, help='Excel 表格的工作表名（默认第一个）')
@click.option('--out', 'out_path', required=True, help='报告文件（.html）')
@click.option('--export', 'export_path', default=None,
              help='另把汇总表导出：.xlsx 文件（每张表一个工作表）或一个目录（每张表一个 CSV）；金额为精确到分的元')
@click.option('--png', 'png_path', default=None, help="另把两张图导出为 PNG（需要 matplotlib：pip install 'polc[report]'）")
@click.option('--date', 'date', default=None, help='评估日期（如 2025-03-01）；默认今天')
@click.option('--engine', type=click.Choice(['duckdb', 'python']), default=None,
              help=f'整表计算的引擎：duckdb 或 python（逐行）；默认 {DEFAULT_ENGINE}（与 polc eval 相同；'
                   f'JSONL 与 Excel 表格用逐行引擎；政策有 SQL 不能表达的写法或未安装 DuckDB 时自动改用逐行引擎并提示）')
@click.option('--id-column', default=None, help='申请人编号所在的列（显示在「应得最多」表中）')
@click.option('--records', 'records', multiple=True, metavar='种类=文件',
              help='一个申请人多个项目（产品、活动）时的记录表，如 --records 产品=products.csv（可重复）；按 --id-column 关联')
@click.option('--top', default=10, type=click.IntRange(1, 1000), help='列出应得最多的前 N 个申请人（默认 10）')
def report(file, facts_path, sheet, out_path, export_path, png_path, date, engine, id_column, records, top):
    """预算报告：名额与资金池分配后的应发合计（及分配前的申请额），各项、类别、牵头单位、责任单位合计，削减，分布图与应得最多的申请人。"""
    import tempfile
    from polc.dsl.files import FileProblem, Outputs
    from polc.compiler.tables.io import BatchError
    from polc.compiler.budget.report import PNG_MISSING, ReportError, aggregate, png_available, render_html, render_png
    from polc.compiler.budget.numbers import headline
    distinct_or_exit([('--facts', facts_path), ('政策文件', file)]
                     + [('--records', spec.partition('=')[2].strip()) for spec in records if '=' in spec],
                     [('--out', out_path), ('--png', png_path), ('--export', export_path)])
    day = day_or_exit(date)
    compiled = load_or_exit(file)
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
    if export_path and not Path(export_path).resolve().parent.is_dir():
        echo_err(f'错误[E-REPORT]: {export_path}：目录不存在，无法导出')
        sys.exit(EXIT_USAGE)
    written = []

    def batch_failure(exc):
        where = ('（这是计算报告时写在系统临时目录中的中间结果，可用环境变量 TMPDIR 换一个目录；'
                 f'{out_path} 保持不变）') if exc.code == 'E-IO' else ''
        return f'错误[{exc.code}]: {exc}{where}'
    with exit_on((FileProblem, lambda e: f'{e.path}: 错误[E-IO]: {e.message}；原有文件保持不变'),
                 (BatchError, batch_failure), (ReportError, lambda e: f'错误[E-REPORT]: {e}'),
                 (OSError, lambda e: f'错误[E-IO]: 无法写入（{e.strerror}）：{out_path}；原有文件保持不变')):
        # the page and the PNG are written whole or not at all, after the whole table is computed
        with Outputs() as outs, tempfile.TemporaryDirectory() as tmp:
            html_temp = outs.temp(out_path)
            png_temp = outs.temp(png_path) if png_path else None
            results = str(Path(tmp) / 'results.csv')
            summary = run_table(compiled, facts_path, results, day.isoformat(), id_column, engine=engine,
                                sheet=sheet, records=records)
            if summary.note:
                echo_err(f'注意：{summary.note}')
            recipients = (summary.firms, tuple(summary.record_recipients.items())) if records else None
            rep = aggregate(compiled, results, summary.grants or summary.allocations, day.isoformat(), id_column,
                            top, recipients)
            Path(html_temp).write_text(render_html(rep), encoding='utf-8')
            if png_path:
                render_png(rep, png_temp, shown=png_path)
            if export_path:
                from polc.compiler.budget.export import export_tables
                written = export_tables(rep, export_path)
    line = f'已生成 {out_path}：{rep.applicants:,} 个申请人，' + (f'{rep.recipients_text}，' if rep.recipients else '') \
        + f'应发合计 {headline(rep.after_cuts)}'
    if rep.after_cuts != rep.total:
        line += f'（名额与资金池分配后；分配前申请额 {headline(rep.total)}）'
    click.echo(line + (f'；PNG：{png_path}' if png_path else '')
               + (f'；汇总表：{export_path}（{len(written)} 个文件）' if export_path else ''))


@click.command()
@click.argument('file')
@click.option('--date', 'date', default=None, help='评估日期（如 2025-03-01）；默认今天。有效期在生成时判定')
@click.option('--dialect', default='duckdb',
              help='SQL 方言：duckdb（默认，原样输出）；spark、trino、postgres 等由 sqlglot 转写')
@click.option('--table', 'table', default='facts', help='事实表的表名（每个输入一列，另有「行号」列）；用 polc prepare 生成')
@click.option('--with-allocation', is_flag=True,
              help='为有名额或资金池的项加一列「项名.分配金额」：在全表中按分配规则分配后的金额（窗口函数）')
@click.option('--records-table', 'record_tables', multiple=True, metavar='种类=表名',
              help='一个申请人多个项目（产品、活动）：该种记录的记录表的表名，如 --records-table 产品=products（可重复）；'
                   '与 --table 申请人表按 --id-column 编号列关联')
@click.option('--id-column', default=None, help='与 --records-table 同用：申请人表与记录表共有的编号列')
def sql(file, date, dialect, table, with_allocation, record_tables, id_column):
    """输出政策编译成的 SQL 查询：从事实表计算每个申请人各项结果、金额与合计。"""
    from polc.compiler.sql.dialects import UnknownDialect, to_dialect
    from polc.compiler.sql.generate import SqlUnsupported, policy_sql
    problem = table_name_problem(table)
    if problem:
        echo_err(f'错误[E-USAGE]: --table「{table}」：{problem}')
        sys.exit(EXIT_USAGE)
    day = day_or_exit(date)
    compiled = load_or_exit(file)
    tables = record_tables_or_exit(compiled, record_tables, id_column)
    try:
        if tables:
            from polc.compiler.sql.records import records_allocation_sql, records_sql
            query = (records_allocation_sql if with_allocation else records_sql)(
                compiled.analysis.checked, day, table, tables, id_column)
        else:
            query = policy_sql(compiled.analysis.checked, day, table, allocation=with_allocation)
            for kind in compiled.records:
                click.echo(f'-- 「{kind}」：事实表每行是一个申请人、一个{kind}（{kind}的输入是列）；'
                           f'一个申请人多个{kind}时用 --records-table {kind}=表名 --id-column 编号列')
        click.echo(to_dialect(query, dialect))
    except UnknownDialect as exc:
        echo_err(f'错误[E-USAGE]: {exc}')
        sys.exit(EXIT_USAGE)
    except SqlUnsupported as exc:
        echo_err(f'{file}: 错误[E-SQL]: {exc}')
        sys.exit(EXIT_DIAG)


def record_tables_or_exit(compiled, specs, id_column) -> dict:
    """``--records-table KIND=TABLE`` options -> {kind: table}, or a Chinese usage error and exit 2."""
    from polc.compiler.tables.io import BatchError
    from polc.compiler.tables.records import parse_record_options
    if not specs:
        if id_column is not None:
            echo_err('错误[E-USAGE]: --id-column 只与 --records-table 同用（申请人表与记录表按编号关联）')
            sys.exit(EXIT_USAGE)
        return {}
    try:
        tables = parse_record_options(compiled, specs, option='--records-table', example='产品=products')
    except BatchError as exc:
        echo_err(f'错误[E-USAGE]: {exc}')
        sys.exit(EXIT_USAGE)
    if not id_column or not id_column.strip():
        echo_err('错误[E-USAGE]: --records-table 需要 --id-column：申请人表与各记录表共有的编号列')
        sys.exit(EXIT_USAGE)
    for kind, name in tables.items():
        problem = table_name_problem(name)
        if problem:
            echo_err(f'错误[E-USAGE]: --records-table「{kind}={name}」：{problem}')
            sys.exit(EXIT_USAGE)
    return tables


_PLAIN_NAME = re.compile(r'[^\W\d]\w*')
# DuckDB's reserved words (duckdb_keywords(), category 'reserved'): the SQL is written in its dialect
RESERVED = frozenset(
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint '
    'create default deferrable desc describe distinct do else end except false fetch for foreign from group '
    'having in initially intersect into lambda lateral leading limit not null offset on only or order pivot '
    'pivot_longer pivot_wider placing primary qualify references returning select show some summarize '
    'symmetric table then to trailing true union unique unpivot using variadic when where window with'.split())


def table_name_problem(table: str):
    """Why ``--table`` cannot be pasted into the SQL as a table name (None when it can): it must be
    a plain identifier — letters (Han characters too), digits and underscores, not starting with a
    digit, not a reserved word — or several joined by dots (catalog.schema.table)."""
    if not table.strip():
        return '表名不能为空'
    for part in table.split('.'):
        if not _PLAIN_NAME.fullmatch(part):
            return ('不是普通的表名：只能由字母（含汉字）、数字和下划线组成，不以数字开头，'
                    '可用点号分隔库名与表名（如 ods.facts）；polc 不把其他文字拼进 SQL')
        if part.lower() in RESERVED:
            return f'「{part}」是 SQL 保留字，不能作表名；请换一个表名（或建一个同名视图）'
    return None
