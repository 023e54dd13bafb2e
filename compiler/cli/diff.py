"""``polc diff OLD NEW``: what changed between two versions of a policy, in money.

Exit codes (like diff(1)): 0 no difference in any amount or outcome, 1 differences found,
2 usage or read error (a missing file, a policy with errors, unreadable facts)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click


from polc.compiler.cli.common import EXIT_DIAG, EXIT_OK, EXIT_USAGE, echo_err, exit_on, load_or_exit


def _load(path: str, label: str):
    """A compiled version, or exit 2: a diff cannot be made from a policy that does not compile."""
    return load_or_exit(path, f'{label}政策有错误，无法比较', EXIT_USAGE)


@click.command('diff')
@click.argument('old_file', metavar='OLD.pol')
@click.argument('new_file', metavar='NEW.pol')
@click.option('--facts', 'facts_path', default=None,
              help='申请人：一个事实文件（JSON/YAML），或一张表格（.csv、.jsonl、.parquet）')
@click.option('--out', 'out_dir', default=None, help='把每个见证申请人写成事实文件（JSON）放到此目录')
@click.option('--format', 'fmt', type=click.Choice(['text', 'json']), default='text')
@click.option('--date', 'date', default=None, help='--facts 的评估日期（如 2025-03-01）；默认两版都有效的日期')
@click.option('--engine', type=click.Choice(['python', 'duckdb']), default='python',
              help='--facts 为表格时的引擎')
@click.option('--id-column', default=None, help='--facts 为表格时申请人编号所在的列（按它对齐两版结果）')
@click.option('--examples', default=300, show_default=True, help='不能用求解器的项，搜索的最多例数')
@click.option('--no-solver', is_flag=True, help='不用求解器，只做搜索')
def diff(old_file, new_file, facts_path, out_dir, fmt, date, engine, id_column, examples, no_solver):
    """比较同一政策的两个版本：结构变化（条款、项、数字、条件、上限、分档、有效期、原文、解读），
    金额变化（哪些申请人、多少钱，能用求解器证明的证明，否则搜索，并给出见证申请人）。

    \b
    退出码：0 金额与结果无差异，1 有差异，2 用法或读取错误。"""
    from polc.compiler.analysis.diff_facts import (TABLE_SUFFIXES, ApplicantsError, one_applicant,
                                                   table_impact)
    from polc.compiler.analysis.diff_render import diff as run_diff
    from polc.compiler.analysis.diff_render import render as render_diff
    from polc.compiler.analysis.diff_render import write_witnesses
    from polc.compiler.facts import FactsFileError, read_facts
    from polc.compiler.tables.io import BatchError
    from polc.compiler.python.runtime import parse_date
    old = _load(old_file, '旧版')
    new = _load(new_file, '新版')
    day = None
    if date is not None:
        day = parse_date(date)
        if day is None:
            echo_err(f'错误[E-USAGE]: 无法读作日期：{date!r}（应为 "2025-03-01"）')
            sys.exit(EXIT_USAGE)
    if facts_path is not None and not Path(facts_path).is_file() and facts_path != '-':
        echo_err(f'{facts_path}: 错误[E-IO]: 找不到申请人文件')
        sys.exit(EXIT_USAGE)
    if out_dir and facts_path is not None:
        inputs = {Path(p).resolve() for p in (facts_path, old_file, new_file)}
        outp = Path(out_dir).resolve()
        if any(x.parent == outp and (x.name in ('见证.json', '申请人.csv') or x.name.startswith('见证'))
               for x in inputs):
            echo_err(f'{out_dir}: 错误[E-USAGE]: --out 目录中的输出会覆盖输入文件，请换一个目录')
            sys.exit(EXIT_USAGE)
    report = run_diff(old, new, old_file, new_file, examples=examples, use_solver=not no_solver)
    if facts_path is not None:
        when = day or report.semantic.date
        with exit_on((FactsFileError, lambda e: f'错误[E-FACTS]: {e}'), (BatchError, lambda e: f'错误[E-FACTS]: {e}'),
                     (ApplicantsError, lambda e: f'错误[E-FACTS]: {facts_path}: {e}')):
            if Path(facts_path).suffix.lower() in TABLE_SUFFIXES:
                from polc.compiler.engines import evaluate_table
                report.applicants = table_impact(evaluate_table, old, new, report.structure.item_pairs,
                                                 facts_path, when,
                                                 engine=engine, id_column=id_column)
            else:
                report.applicants = one_applicant(old, new, report.structure.item_pairs,
                                                  read_facts(facts_path), when)
    if out_dir:
        with exit_on((OSError, lambda e: f'{out_dir}: 错误[E-IO]: 无法写入见证（{e.strerror or e}）')):
            write_witnesses(report, out_dir)
    if fmt == 'json':
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_diff(report), nl=False)
    sys.exit(EXIT_DIAG if report.differs else EXIT_OK)
