"""The ``polc`` command line.  Thin: every command calls library functions.

Exit codes: 0 success; 1 diagnostics, failed cases; 2 usage, I/O or bad facts;
3 an internal error (a bug in polc, reported without a traceback).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import attrs
import click

from polc.dsl.analysis import SourceError, analyze, read_source
from polc.dsl.diagnostics import has_errors, is_clean, render

from .facts import FactsFileError, read_facts
from .loader import PolcError, compile_analysis
from .runtime import FactsError
from polc.dsl.units import format_money

EXIT_OK, EXIT_DIAG, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _day_or_exit(date):
    """The evaluation date given with --date (today when not given); exit 2 if unreadable."""
    import datetime as _dt
    from .runtime import parse_date
    day = parse_date(date) if date is not None else _dt.date.today()
    if day is None:
        _echo_err(f'错误[E-USAGE]: 无法读作日期：{date!r}（应为 "2025-03-01"）')
        sys.exit(EXIT_USAGE)
    return day


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


def _load_or_exit(path: str):
    """Read, check and compile a policy; print diagnostics and exit on errors."""
    try:
        text = read_source(path)
    except SourceError as exc:
        _echo_err(f'{exc.file}: 错误[E-IO]: {exc.message}')
        sys.exit(EXIT_USAGE)
    analysis = analyze(text, path)
    if has_errors(analysis.diagnostics):
        for d in analysis.diagnostics:
            _echo_err(render(d, text))
        _echo_err(f'{path}：政策有错误，无法执行')
        sys.exit(EXIT_DIAG)
    try:
        return compile_analysis(analysis)
    except PolcError as exc:
        for d in exc.diagnostics:
            _echo_err(render(d, text))
        sys.exit(EXIT_DIAG)


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(package_name='polc', prog_name='polc')
def cli():
    """polc：政策语言（.pol）的编译器。check 检查，eval 计算并说明，build 生成 Python 模块，test 运行案例。"""


@cli.command()
@click.argument('files', nargs=-1, required=True)
@click.option('--format', 'fmt', type=click.Choice(['text', 'json']), default='text',
              help='输出格式：text（默认）或 json')
@click.option('--report', is_flag=True, help='另外输出覆盖率报告：原文件条款、已编码条款、各类结果、案例数')
def check(files, fmt, report):
    """检查政策文件，列出全部错误与警告。"""
    from polc.dsl.coverage import coverage, render_report
    from polc.dsl.diagnostics import error
    diags, reports, io_error = [], [], False
    for path in files:
        try:
            text = read_source(path)
        except SourceError as exc:
            io_error = True
            d = error('E-IO', exc.message, None).with_file(exc.file)
            diags.append(d)
            if fmt == 'text':
                _echo_err(render(d, None))
            continue
        analysis = analyze(text, path)
        diags.extend(analysis.diagnostics)
        if fmt == 'text':
            for d in analysis.diagnostics:
                click.echo(render(d, text))
        if report and analysis.checked is not None:
            reports.append(coverage(analysis.checked, path))
    n_err = sum(1 for d in diags if d.severity == 'error')
    n_warn = sum(1 for d in diags if d.severity == 'warning')
    if fmt == 'json':
        out = [d.to_dict() for d in diags]
        if report:
            out = {'diagnostics': out, 'coverage': [attrs.asdict(r) for r in reports]}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for r in reports:
            click.echo(render_report(r), nl=False)
        summary = f'检查了 {len(files)} 个文件：{n_err} 个错误，{n_warn} 个警告'
        click.echo(summary if (n_err or n_warn) else summary + '，全部通过')
    if io_error:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_DIAG if (n_err or n_warn) else EXIT_OK)


@cli.command(name='eval')
@click.argument('file')
@click.option('--facts', 'facts_path', required=True, help='申请人事实：JSON 或 YAML 文件；- 表示标准输入')
@click.option('--date', 'date', default=None, help='评估日期（如 2025-03-01）；默认今天')
@click.option('--format', 'fmt', type=click.Choice(['text', 'json']), default='text')
@click.option('--brief', is_flag=True, help='只列结果，不列计算过程与原文')
@click.option('--out', 'out_path', default=None,
              help='批量：把每个申请人的结果写到此表格（.csv/.jsonl/.parquet）；--facts 为同类表格')
@click.option('--id-column', default=None, help='批量：申请人编号所在的列（不作为事实，原样写到结果）')
@click.option('--skip-bad', is_flag=True, help='批量：跳过有错误的行（写到 --rejects 文件）继续计算')
@click.option('--rejects', 'rejects_path', default=None, help='批量：被跳过的行写到此 JSONL 文件')
@click.option('--allocation', 'allocation_path', default=None,
              help='批量：名额与资金池的分配结果写到此表格（谁获得、多少、谁被削减及原因）')
@click.option('--engine', type=click.Choice(['python', 'duckdb']), default='python',
              help='批量：python（默认）逐行计算；duckdb 把政策编译为 SQL 在 DuckDB 上整表计算（DECIMAL 精确到分）')
def eval_(file, facts_path, date, fmt, brief, out_path, id_column, skip_bad, rejects_path,
          allocation_path, engine):
    """计算一个申请人可获得的奖补，并逐条说明理由；或批量计算一整张表。"""
    from .explain import render_text
    compiled = _load_or_exit(file)
    from .batch import table_format
    if out_path is not None or table_format(facts_path) is not None:
        _batch_or_exit(compiled, facts_path, out_path, date, id_column, skip_bad, rejects_path,
                       allocation_path, engine)
        return
    if engine != 'python':
        _echo_err('错误[E-USAGE]: --engine duckdb 只用于批量计算（--facts 为 .csv/.jsonl/.parquet 表格，并给出 --out）')
        sys.exit(EXIT_USAGE)
    result = _evaluate_or_exit(compiled, facts_path, date, explain=not brief or fmt == 'json')
    if fmt == 'json':
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(result, verbose=not brief), nl=False)


@cli.command()
@click.argument('file')
@click.option('-o', '--output', default=None, help='输出文件；默认写到标准输出')
@click.option('--runtime', type=click.Choice(['embed', 'polc']), default='embed',
              help='embed（默认）：把运行时嵌入模块，只依赖标准库；polc：导入已安装的 polc 运行时')
def build(file, output, runtime):
    """生成可导入的 Python 模块（evaluate(facts, date=None) -> dict）。"""
    from .standalone import generate_standalone
    compiled = _load_or_exit(file)
    source = compiled.python_source if runtime == 'polc' else generate_standalone(
        compiled.analysis.checked, compiled.analysis.source)
    if output is None:
        click.echo(source, nl=False)
        return
    try:
        Path(output).write_text(source, encoding='utf-8')
    except OSError as exc:
        _echo_err(f'{output}: 错误[E-IO]: 无法写入（{exc.strerror}）')
        sys.exit(EXIT_USAGE)
    click.echo(f'已生成 {output}')


@cli.command()
@click.argument('files', nargs=-1, required=True)
@click.option('-o', '--output', default=None, help='输出文件；默认写到标准输出（只能配合一个文件或 --readings）')
@click.option('--readings', is_flag=True, help='输出全部文件的解读汇总（docs/readings.md）')
def doc(files, output, readings):
    """从政策文件生成 Markdown 说明页：条款、类别、规则、上限、部门与解读。"""
    from polc.dsl.docgen import policy_page, readings_page
    pages, entries = [], []
    for path in files:
        try:
            text = read_source(path)
        except SourceError as exc:
            _echo_err(f'{exc.file}: 错误[E-IO]: {exc.message}')
            sys.exit(EXIT_USAGE)
        analysis = analyze(text, path)
        if not analysis.ok:
            for d in analysis.diagnostics:
                _echo_err(render(d, text))
            sys.exit(EXIT_DIAG)
        entries.append((path, analysis.policy))
        pages.append(policy_page(analysis.checked, text))
    out = readings_page(entries) if readings else '\n'.join(pages)
    if output is None:
        click.echo(out, nl=False)
        return
    try:
        Path(output).write_text(out, encoding='utf-8')
    except OSError as exc:
        _echo_err(f'{output}: 错误[E-IO]: 无法写入（{exc.strerror}）')
        sys.exit(EXIT_USAGE)


@cli.command()
@click.argument('file')
def schema(file):
    """输出政策输入的 JSON Schema（draft 2020-12）。"""
    from .schema import schema_of
    compiled = _load_or_exit(file)
    click.echo(json.dumps(schema_of(compiled.meta, compiled.inputs), ensure_ascii=False, indent=2))


@cli.command()
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
    from .batch import BatchError, run_batch
    from .report import PNG_MISSING, ReportError, aggregate, png_available, render_html, render_png
    compiled = _load_or_exit(file)
    day = _day_or_exit(date)
    if not out_path.lower().endswith(('.html', '.htm')):
        _echo_err(f'错误[E-USAGE]: {out_path}：报告应写到 .html 文件')
        sys.exit(EXIT_USAGE)
    if png_path:                        # said before any work is done
        if not png_available():
            _echo_err(f'错误[E-REPORT]: {PNG_MISSING}')
            sys.exit(EXIT_USAGE)
        if not Path(png_path).resolve().parent.is_dir():
            _echo_err(f'错误[E-REPORT]: {png_path}：目录不存在，无法写入 PNG')
            sys.exit(EXIT_USAGE)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = str(Path(tmp) / 'results.csv')
            if engine == 'duckdb':
                from .duck import run_duckdb
                summary = run_duckdb(compiled, facts_path, results, day.isoformat(), id_column)
            else:
                summary = run_batch(compiled, facts_path, results, day.isoformat(), id_column)
            rep = aggregate(compiled, results, summary.allocations, day.isoformat(), id_column, top)
        Path(out_path).write_text(render_html(rep), encoding='utf-8')
        if png_path:
            render_png(rep, png_path)
    except BatchError as exc:
        _echo_err(f'错误[E-FACTS]: {exc}')
        sys.exit(EXIT_USAGE)
    except ReportError as exc:
        _echo_err(f'错误[E-REPORT]: {exc}')
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        _echo_err(f'错误[E-IO]: 无法写入（{exc.strerror}）：{exc.filename}')
        sys.exit(EXIT_USAGE)
    click.echo(f'已生成 {out_path}：{rep.applicants} 个申请人，应得合计 {format_money(rep.total)}'
               + (f'；PNG：{png_path}' if png_path else ''))


@cli.command()
@click.argument('file')
@click.option('--date', 'date', default=None, help='评估日期（如 2025-03-01）；默认今天。有效期在生成时判定')
@click.option('--dialect', default='duckdb',
              help='SQL 方言：duckdb（默认，原样输出）；spark、trino、postgres 等由 sqlglot 转写')
@click.option('--table', 'table', default='facts', help='事实表的表名（每个输入一列，另有「行号」列）')
def sql(file, date, dialect, table):
    """输出政策编译成的 SQL 查询：从事实表计算每个申请人各项结果、金额与合计。"""
    from .sql import SqlUnsupported, UnknownDialect, policy_sql, to_dialect
    compiled = _load_or_exit(file)
    day = _day_or_exit(date)
    try:
        query = policy_sql(compiled.analysis.checked, day, table)
        click.echo(to_dialect(query, dialect))
    except UnknownDialect as exc:
        _echo_err(f'错误[E-USAGE]: {exc}')
        sys.exit(EXIT_USAGE)
    except SqlUnsupported as exc:
        _echo_err(f'{file}: 错误[E-SQL]: {exc}')
        sys.exit(EXIT_DIAG)


@cli.command()
@click.argument('file')
@click.option('--facts', 'facts_path', required=True, help='申请人事实：JSON 或 YAML 文件；- 表示标准输入')
@click.argument('item')
@click.option('--date', 'date', default=None, help='评估日期（如 2025-03-01）；默认今天')
def explain(file, facts_path, item, date):
    """逐步说明一项（或一个条款的全部项）的推导过程。ITEM 是项名或条款编号。"""
    from polc.dsl.text import normalize
    from .explain import render_item
    compiled = _load_or_exit(file)
    result = _evaluate_or_exit(compiled, facts_path, date, explain=True)
    key = normalize(item).strip()
    chosen = [it for it in result.items if it.name == item or normalize(it.clause).strip() == key
              or normalize(it.clause).strip('()、. ') == key.strip('()、. ')]
    if not chosen:
        names = '、'.join(it.name for it in result.items)
        _echo_err(f'错误[E-USAGE]: 没有名为「{item}」的项或条款；可选：{names}')
        sys.exit(EXIT_USAGE)
    click.echo(f'{result.policy}\n评估日期：{result.date.isoformat()}（{result.validity}）\n')
    for it in chosen:
        click.echo('\n'.join(render_item(it, verbose=True)) + '\n')
    for g in result.groups:
        if any(it.name in g.members for it in chosen):
            click.echo(f'组「{g.name}」：{g.note}')


def _batch_or_exit(compiled, facts_path, out_path, date, id_column, skip_bad, rejects_path,
                   allocation_path=None, engine='python'):
    from polc.dsl.units import format_money
    from .batch import BatchError, run_batch
    if out_path is None:
        _echo_err('错误[E-USAGE]: 批量计算需要 --out 结果文件（.csv、.jsonl 或 .parquet）')
        sys.exit(EXIT_USAGE)
    bar = _progress_bar(facts_path) if sys.stderr.isatty() else None
    try:
        if engine == 'duckdb':
            from .duck import run_duckdb
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
        _echo_err(f'错误[E-FACTS]: {exc}')
        sys.exit(EXIT_USAGE)
    click.echo(f'计算了 {summary.written} 行，写入 {out_path}'
               + (f'；跳过有错误的行 {summary.rejected} 行' if summary.rejected else '')
               + f'；应得合计 {format_money(summary.total)}')
    for name, sh in summary.allocations.items():
        click.echo(f'「{name}」：{sh.claims} 个申请，{sh.recipients} 个获得，合计 '
                   f'{format_money(sh.granted)}；{sh.cut} 个被削减')


class _ProgressBar:
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


def _progress_bar(path: str, large: int = 5 * 2 ** 20):
    try:
        return _ProgressBar() if Path(path).stat().st_size >= large else None
    except OSError:
        return None


def _evaluate_or_exit(compiled, facts_path, date, explain):
    try:
        facts = read_facts(facts_path)
    except FactsFileError as exc:
        _echo_err(f'错误[E-FACTS]: {exc}')
        sys.exit(EXIT_USAGE)
    try:
        return compiled.evaluate(facts, date=date, explain=explain)
    except FactsError as exc:
        for name, msg in exc.problems:
            _echo_err(f'错误[E-FACTS]: {facts_path}: 「{name}」：{msg}' if name else
                      f'错误[E-FACTS]: {facts_path}: {msg}')
        sys.exit(EXIT_USAGE)


@cli.command()
@click.argument('files', nargs=-1, required=True)
@click.option('--check', 'check_only', is_flag=True, help='只检查是否已是规范格式；有需要改动的文件时退出码为 1')
@click.option('--diff', 'show_diff', is_flag=True, help='显示将要做的改动（统一差异格式）')
@click.option('-w', '--write', is_flag=True, help='直接改写文件')
def fmt(files, check_only, show_diff, write):
    """按统一格式排版政策文件（保留注释与原文，保留简体/繁体关键字写法）。"""
    import difflib
    from polc.dsl.formatter import format_policy
    from polc.dsl.parser import parse
    changed, failed = [], False
    for path in _policy_files(files):
        try:
            text = read_source(path)
        except SourceError as exc:
            _echo_err(f'{exc.file}: 错误[E-IO]: {exc.message}')
            failed = True
            continue
        result = parse(text, path)
        if result.policy is None or any(d.severity == 'error' for d in result.diagnostics):
            for d in result.diagnostics:
                _echo_err(render(d, text))
            failed = True
            continue
        new = format_policy(result.policy, text)
        if not (check_only or show_diff or write):
            click.echo(new, nl=False)
        if new == text:
            continue
        changed.append(path)
        if show_diff:
            click.echo(''.join(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                                    f'{path}（原）', f'{path}（排版后）')), nl=False)
        if write:
            Path(path).write_text(new, encoding='utf-8')
    if check_only:
        for path in changed:
            click.echo(f'需要排版：{path}')
        click.echo(f'{len(changed)} 个文件需要排版' if changed else '全部文件已是规范格式')
    elif write:
        click.echo(f'已排版 {len(changed)} 个文件')
    if failed:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_DIAG if (check_only and changed) else EXIT_OK)


@cli.command()
@click.argument('files', nargs=-1, required=True)
@click.option('--examples', default=500, show_default=True, help='每条保证搜索的最多例数')
@click.option('--cliff', 'cliff', default='1万元', show_default=True,
              help='悬崖阈值：多 1 分钱的输入使金额减少超过此数时警告')
@click.option('--format', 'fmt', type=click.Choice(['text', 'json']), default='text')
@click.option('--out', 'out_dir', default=None, help='把每个反例写成事实文件（JSON）放到此目录')
@click.option('--no-solver', is_flag=True, help='不用求解器证明，只做搜索')
def verify(files, examples, cliff, fmt, out_dir, no_solver):
    """验证保证（保证语句与隐含保证）：能证明的用求解器证明，否则搜索反例；报告政策悬崖。"""
    from .runtime import _coerce_money
    from .verify import render as render_verify
    from .verify import verify as run_verify
    try:
        threshold = _coerce_money(cliff)
    except ValueError as exc:
        _echo_err(f'错误[E-USAGE]: --cliff：{exc}')
        sys.exit(EXIT_USAGE)
    reports = []
    for f in files:
        compiled = _load_or_exit(f)
        reports.append(run_verify(compiled, examples=examples, cliff_threshold=threshold,
                                  use_solver=not no_solver))
    if out_dir:
        outp = Path(out_dir)
        outp.mkdir(parents=True, exist_ok=True)
        n = 0
        for r in reports:
            for o in r.outcomes:
                if o.counterexample is not None:
                    n += 1
                    facts = dict(o.counterexample)
                    facts.pop('日期', None)
                    (outp / f'{Path(r.file).stem}-反例{n}.json').write_text(
                        json.dumps(facts, ensure_ascii=False, indent=2) + '\n', encoding='utf-8')
    if fmt == 'json':
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for r in reports:
            click.echo(render_verify(r), nl=False)
    sys.exit(EXIT_DIAG if any(r.failed for r in reports) else EXIT_OK)


@cli.command()
@click.argument('files', nargs=-1, required=True)
@click.option('--examples', default=100, show_default=True, help='每个存活变异体用 polc verify 搜索的例数')
def mutate(files, examples):
    """变异测试：改错规则（比例、上限、区间端点、门槛），看案例与保证能否发现。"""
    from .mutation import render as render_mutation
    from .mutation import run as run_mutation
    survived = 0
    for f in files:
        compiled = _load_or_exit(f)
        results = run_mutation(compiled.analysis.source, f, verify_examples=examples)
        survived += sum(1 for r in results if not r.caught_by)
        click.echo(render_mutation(f, results), nl=False)
    sys.exit(EXIT_DIAG if survived else EXIT_OK)


@cli.command()
def lsp():
    """启动语言服务器（标准输入输出，供编辑器使用；需要 pygls）。"""
    try:
        from polc.lsp import main as lsp_main
    except ImportError as exc:
        _echo_err(f'错误[E-USAGE]: 语言服务器需要 pygls：pip install "polc[lsp]"（{exc}）')
        sys.exit(EXIT_USAGE)
    lsp_main()


def _policy_files(paths) -> list[str]:
    out = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(str(x) for x in sorted(path.rglob('*.pol')))
        else:
            out.append(str(path))
    return out


@cli.command()
@click.argument('paths', nargs=-1)
@click.option('-k', 'pattern', default=None, help='只运行标题含此文字的案例')
@click.option('--format', 'fmt', type=click.Choice(['text', 'json']), default='text')
def test(paths, pattern, fmt):
    """运行政策文件中的案例（默认 policies/ 目录）。"""
    from .cases import run_cases
    files = _policy_files(paths or ['policies'])
    if not files:
        _echo_err('错误[E-IO]: 没有找到 .pol 文件')
        sys.exit(EXIT_USAGE)
    results = []
    for f in files:
        compiled = _load_or_exit(f)
        results.extend(run_cases(compiled, pattern))
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


def main(argv=None):
    try:
        cli.main(args=argv, prog_name='polc', standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _echo_err('已中断')
        sys.exit(130)
    except Exception as exc:          # a bug in polc: say so, without a traceback
        _echo_err(f'polc 内部错误（{type(exc).__name__}: {exc}）。请把命令与输入文件报告给 polc 维护者。')
        sys.exit(EXIT_INTERNAL)


if __name__ == '__main__':
    main()
