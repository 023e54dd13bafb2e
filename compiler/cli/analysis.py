"""Commands that analyse a policy: verify, mutate."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from polc.compiler.cli.common import (EXIT_DIAG, EXIT_OK, EXIT_USAGE, echo_err, load_or_exit, write_or_exit)


@click.command()
@click.argument('files', nargs=-1, required=True)
@click.option('--examples', default=500, show_default=True, help='每条保证搜索的最多例数')
@click.option('--cliff', 'cliff', default='1万元', show_default=True,
              help='悬崖阈值：多 1 分钱的输入使金额减少超过此数时警告')
@click.option('--format', 'fmt', type=click.Choice(['text', 'json']), default='text')
@click.option('--out', 'out_dir', default=None, help='把每个反例写成事实文件（JSON）放到此目录')
@click.option('--no-solver', is_flag=True, help='不用求解器证明，只做搜索')
def verify(files, examples, cliff, fmt, out_dir, no_solver):
    """验证保证（保证语句与隐含保证）：能证明的用求解器证明，否则搜索反例；报告政策悬崖。"""
    from polc.compiler.python.runtime import _coerce_money
    from polc.compiler.analysis.verify import render as render_verify
    from polc.compiler.analysis.verify import verify as run_verify
    try:
        threshold = _coerce_money(cliff)
    except ValueError as exc:
        echo_err(f'错误[E-USAGE]: --cliff：{exc}')
        sys.exit(EXIT_USAGE)
    from polc.compiler.cli.progress import Progress
    reports = []
    for f in files:
        compiled = load_or_exit(f)
        with Progress(f'验证 {Path(f).name}', unit='条保证') as bar:
            reports.append(run_verify(compiled, examples=examples, cliff_threshold=threshold,
                                      use_solver=not no_solver,
                                      progress=(lambda done, total: bar.update(done / total, done))
                                      if bar.shown else None))
    if out_dir:
        outp = Path(out_dir)
        try:
            outp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            echo_err(f'{out_dir}: 错误[E-IO]: 无法建立目录（{exc.strerror}）')
            sys.exit(EXIT_USAGE)
        n = 0
        for r in reports:
            for o in r.outcomes:
                if o.counterexample is not None:
                    n += 1
                    facts = dict(o.counterexample)
                    facts.pop('日期', None)
                    write_or_exit(str(outp / f'{Path(r.file).stem}-反例{n}.json'),
                                  json.dumps(facts, ensure_ascii=False, indent=2) + '\n')
    if fmt == 'json':
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for r in reports:
            click.echo(render_verify(r), nl=False)
    sys.exit(EXIT_DIAG if any(r.failed for r in reports) else EXIT_OK)


@click.command()
@click.argument('files', nargs=-1, required=True)
@click.option('--examples', default=100, show_default=True, help='每个存活变异体用 polc verify 搜索的例数')
def mutate(files, examples):
    """变异测试：改错规则（比例、上限、区间端点、门槛），看案例与保证能否发现。"""
    from polc.compiler.analysis.mutation import render as render_mutation
    from polc.compiler.analysis.mutation import run as run_mutation
    survived = 0
    for f in files:
        compiled = load_or_exit(f)
        from polc.compiler.cli.progress import Progress
        with Progress(f'变异 {Path(f).name}', unit='个变异体') as bar:
            results = run_mutation(compiled.analysis.source, f, verify_examples=examples,
                                   progress=(lambda done, total: bar.update(done / total if total else 1, done))
                                   if bar.shown else None)
        survived += sum(1 for r in results if not r.caught_by)
        click.echo(render_mutation(f, results), nl=False)
    sys.exit(EXIT_DIAG if survived else EXIT_OK)
