"""Commands for one applicant: eval (and a whole table through --out), explain, test."""
from __future__ import annotations

import json
import sys

import click

from polc.compiler.cli.common import (EXIT_DIAG, EXIT_OK, EXIT_USAGE, colour_for, day_or_exit, distinct_or_exit,
                                      echo_err, evaluate_or_exit, load_or_exit, policy_files)
from polc.compiler.cli.tables import batch_or_exit
from polc.compiler.engines import DEFAULT_ENGINE


@click.command(name='eval')
@click.argument('file')
@click.option('--facts', 'facts_path', required=True, help='申请人事实：JSON 或 YAML 文件；- 表示标准输入')
@click.option('--date', 'date', default=None, help='评估日期（如 2025-03-01）；默认今天')
@click.option('--format', 'fmt', type=click.Choice(['text', 'json']), default='text')
@click.option('--brief', is_flag=True, help='只列结果，不列计算过程与原文')
@click.option('--all', 'all_items', is_flag=True,
              help='审核人的版式：按政策顺序列出每一项（含不适用的项及原因），最后是合计')
@click.option('--strict', is_flag=True,
              help='条件依赖未填事实（按默认值计）的项不计算，结果为「缺少事实」并列出未填的事实')
@click.option('--out', 'out_path', default=None,
              help='批量：把每个申请人的结果写到此表格（.csv/.jsonl/.parquet/.xlsx）；--facts 为表格')
@click.option('--sheet', default=None, help='批量：Excel 表格的工作表名（默认第一个）')
@click.option('--id-column', default=None, help='批量：申请人编号所在的列（不作为事实，原样写到结果）')
@click.option('--skip-bad', is_flag=True, help='批量：跳过有错误的行（写到 --rejects 文件）继续计算')
@click.option('--rejects', 'rejects_path', default=None, help='批量：被跳过的行写到此 JSONL 文件')
@click.option('--allocation', 'allocation_path', default=None,
              help='批量：名额与资金池的分配结果写到此表格（谁获得、多少、谁被削减及原因）')
@click.option('--records', 'records', multiple=True, metavar='种类=文件',
              help='批量：一个申请人多个项目（产品、活动）时的记录表，如 --records 产品=products.csv（每种记录一个，'
                   '可重复）；与 --facts 申请人表按 --id-column 编号列关联')
@click.option('--records-out', 'records_out', default=None,
              help='批量：另把每个记录（项目、产品）的结果写到此表格（需要 --records）')
@click.option('--compact', is_flag=True,
              help='批量：紧凑的结果表——各项结果写成代码（0 不适用、1 金额、2 最高可获、3 按规定享受其他政策、4 一事一议、'
                   '5 非现金待遇、6 本措施未设金额）；Parquet 中金额在政策的上限保证不超过 10^16 元时用 64 位 DECIMAL(18, 2)')
@click.option('--explain', 'explain_columns', is_flag=True,
              help='批量：每项的金额之后加一列「项名.说明」，写出该申请人这一项的计算过程（由逐行引擎生成，较慢）')
@click.option('--engine', type=click.Choice(['python', 'duckdb']), default=None,
              help=f'批量：duckdb 把政策编译为 SQL 在 DuckDB 上整表计算（DECIMAL 精确到分）；python 逐行计算；'
                   f'默认 {DEFAULT_ENGINE}（与 polc report 相同；JSONL 与 Excel 表格用逐行引擎；政策有 SQL '
                   f'不能表达的写法或未安装 DuckDB 时自动改用逐行引擎并提示）')
def eval_(file, facts_path, date, fmt, brief, all_items, strict, out_path, sheet, id_column, skip_bad, rejects_path,
          allocation_path, records, records_out, compact, explain_columns, engine):
    """计算一个申请人可获得的奖补，并逐条说明理由；或批量计算一整张表。"""
    from polc.compiler.python.explain import render_text
    from polc.compiler.tables.io import table_format
    batch = out_path is not None or table_format(facts_path) is not None
    if strict and batch:
        echo_err('错误[E-USAGE]: --strict 只用于单个申请人的计算（批量表格不支持）')
        sys.exit(EXIT_USAGE)
    if batch:           # before any work: no output may be an input or another output
        distinct_or_exit([('--facts', facts_path), ('政策文件', file)]
                         + [('--records', spec.partition('=')[2].strip()) for spec in records if '=' in spec],
                         [('--out', out_path), ('--rejects', rejects_path), ('--allocation', allocation_path),
                          ('--records-out', records_out)])
    if date is not None:
        day_or_exit(date)
    compiled = load_or_exit(file)
    if batch:
        batch_or_exit(compiled, facts_path, out_path, date, id_column, skip_bad, rejects_path,
                      allocation_path, engine, sheet, records, records_out, compact, explain_columns)
        return
    if records or records_out:
        echo_err('错误[E-USAGE]: --records 与 --records-out 只用于批量计算（--facts 为申请人表格，并给出 --out）；'
                 '单个申请人的多个项目写在 JSON 或 YAML 事实的列表里')
        sys.exit(EXIT_USAGE)
    if compact or explain_columns:
        echo_err(f'错误[E-USAGE]: {"--compact" if compact else "--explain"} 只用于批量计算（--facts 为表格，并给出 --out）'
                 + ('；单个申请人的计算过程 polc eval 默认就会列出' if explain_columns else ''))
        sys.exit(EXIT_USAGE)
    if engine == 'duckdb':
        echo_err('错误[E-USAGE]: --engine duckdb 只用于批量计算（--facts 为 .csv/.jsonl/.parquet/.xlsx 表格，并给出 --out）')
        sys.exit(EXIT_USAGE)
    if sheet is not None:
        echo_err('错误[E-USAGE]: --sheet 只用于批量计算（--facts 为 .xlsx 表格）')
        sys.exit(EXIT_USAGE)
    result = evaluate_or_exit(compiled, facts_path, date, explain=not brief or fmt == 'json', strict=strict)
    if fmt == 'json':
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        text = render_text(result, verbose=not brief, all_items=all_items)
        color, _width = colour_for(sys.stdout)
        click.echo(paint_result(text) if color else text, nl=False)


_HEADINGS = ('可获得', '计算过程', '合计', '组合')


def paint_result(text: str) -> str:
    """Colours for a terminal: headings bold, what the applicant gets green, 不适用 dimmed.
    Only the styling changes: without colours the text is the same."""
    out = []
    for line in text.split('\n'):
        if line in _HEADINGS:
            line = click.style(line, bold=True)
        elif line.startswith('  · ') or line.startswith('  应得合计') or line.startswith('  结果：') and '不适用' not in line:
            line = click.style(line, fg='green')
        elif line.startswith(('不适用', '金额为 0', '  结果：不适用', '  原因：')):
            line = click.style(line, dim=True)
        out.append(line)
    return '\n'.join(out)


@click.command()
@click.argument('file')
@click.option('--facts', 'facts_path', required=True, help='申请人事实：JSON 或 YAML 文件；- 表示标准输入')
@click.argument('item')
@click.option('--date', 'date', default=None, help='评估日期（如 2025-03-01）；默认今天')
def explain(file, facts_path, item, date):
    """逐步说明一项（或一个条款的全部项）的推导过程。ITEM 是项名或条款编号。"""
    from polc.dsl.text import normalize
    from polc.compiler.python.explain import render_item
    if date is not None:
        day_or_exit(date)
    compiled = load_or_exit(file)
    result = evaluate_or_exit(compiled, facts_path, date, explain=True)
    from polc.dsl.script import fold
    key = normalize(item).strip()
    chosen = [it for it in result.items if fold(it.name) == fold(key) or normalize(it.clause).strip() == key
              or normalize(it.clause).strip('()、. ') == key.strip('()、. ')]
    if not chosen:
        names = '、'.join(it.name for it in result.items)
        echo_err(f'错误[E-USAGE]: 没有名为「{item}」的项或条款；可选：{names}')
        sys.exit(EXIT_USAGE)
    click.echo(result.words(f'{result.policy}\n评估日期：{result.date.isoformat()}（{result.validity}）\n'))
    for it in chosen:
        click.echo('\n'.join(render_item(it, verbose=True, words=result.words)) + '\n')
    for g in result.groups:
        if any(it.name in g.members for it in chosen):
            click.echo(result.words(f'组「{g.name}」：{g.note}'))


@click.command()
@click.argument('paths', nargs=-1)
@click.option('-k', 'pattern', default=None, help='只运行标题含此文字的案例')
@click.option('--format', 'fmt', type=click.Choice(['text', 'json']), default='text')
def test(paths, pattern, fmt):
    """运行政策文件中的案例（默认 policies/ 目录）。"""
    from polc.compiler.analysis.cases import run_cases
    files = policy_files(paths or ['policies'])
    if not files:
        echo_err('错误[E-IO]: 没有找到 .pol 文件')
        sys.exit(EXIT_USAGE)
    from polc.compiler.cli.progress import Progress
    results = []
    with Progress('案例', unit='个文件') as bar:
        for k, f in enumerate(files, start=1):
            compiled = load_or_exit(f)
            results.extend(run_cases(compiled, pattern))
            bar.update(k / len(files), k)
    passed = sum(1 for r in results if r.passed)
    failed = len(results) - passed
    if fmt == 'json':
        click.echo(json.dumps({'passed': passed, 'failed': failed,
                               'cases': [r.to_dict() for r in results]}, ensure_ascii=False, indent=2))
    else:
        for r in results:
            if not r.passed:
                click.echo(f'失败 {r.file}:{r.line}: 案例「{r.title}」')
                for f in r.failures:
                    click.echo(f'  {f}')
        click.echo(f'{passed} passed, {failed} failed')
    sys.exit(EXIT_DIAG if failed else EXIT_OK)
