"""Commands on policy files: check, fmt, build, doc, schema, lsp."""
from __future__ import annotations

import json
import sys

import attrs
import click

from polc.dsl.analysis import SourceError, analyze, read_source

from polc.compiler.cli.common import (EXIT_DIAG, EXIT_OK, EXIT_USAGE, distinct_or_exit, echo_err, load_or_exit,
                                      policy_files, show_diagnostic, write_or_exit)


@click.command()
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
                show_diagnostic(d, None)
            continue
        analysis = analyze(text, path)
        from polc.compiler.analysis.defaults import default_warnings
        found = list(analysis.diagnostics) + default_warnings(analysis)
        diags.extend(found)
        if fmt == 'text':
            for d in found:
                show_diagnostic(d, text, err=False)
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


@click.command()
@click.argument('file')
@click.option('-o', '--output', default=None, help='输出文件；默认写到标准输出')
@click.option('--runtime', type=click.Choice(['embed', 'polc']), default='embed',
              help='embed（默认）：把运行时嵌入模块，只依赖标准库；polc：导入已安装的 polc 运行时')
def build(file, output, runtime):
    """生成可导入的 Python 模块（evaluate(facts, date=None) -> dict）。"""
    from polc.compiler.python.standalone import generate_standalone
    distinct_or_exit([('政策文件', file)], [('-o', output)])
    compiled = load_or_exit(file)
    source = compiled.python_source if runtime == 'polc' else generate_standalone(
        compiled.analysis.checked, compiled.analysis.source)
    if output is None:
        click.echo(source, nl=False)
        return
    write_or_exit(output, source)
    click.echo(f'已生成 {output}')


@click.command()
@click.argument('files', nargs=-1, required=True)
@click.option('-o', '--output', default=None, help='输出文件；默认写到标准输出（只能配合一个文件或 --readings）')
@click.option('--readings', is_flag=True, help='输出全部文件的解读汇总（docs/readings.md）')
def doc(files, output, readings):
    """从政策文件生成 Markdown 说明页：条款、类别、规则、上限、部门与解读。"""
    from polc.dsl.docgen import policy_page, readings_page
    distinct_or_exit([('政策文件', f) for f in files], [('-o', output)])
    pages, entries = [], []
    for path in files:
        try:
            text = read_source(path)
        except SourceError as exc:
            echo_err(f'{exc.file}: 错误[E-IO]: {exc.message}')
            sys.exit(EXIT_USAGE)
        analysis = analyze(text, path)
        if not analysis.ok:
            for d in analysis.diagnostics:
                show_diagnostic(d, text)
            sys.exit(EXIT_DIAG)
        entries.append((path, analysis.policy))
        pages.append(policy_page(analysis.checked, text))
    out = readings_page(entries) if readings else '\n'.join(pages)
    if output is None:
        click.echo(out, nl=False)
        return
    write_or_exit(output, out)


@click.command()
@click.argument('file')
def schema(file):
    """输出政策输入的 JSON Schema（draft 2020-12）。"""
    from polc.compiler.schema import schema_of
    compiled = load_or_exit(file)
    click.echo(json.dumps(schema_of(compiled.meta, compiled.inputs, compiled.records), ensure_ascii=False, indent=2))


@click.command()
@click.argument('files', nargs=-1, required=True)
@click.option('--check', 'check_only', is_flag=True, help='只检查是否已是规范格式；有需要改动的文件时退出码为 1')
@click.option('--diff', 'show_diff', is_flag=True, help='显示将要做的改动（统一差异格式）')
@click.option('-w', '--write', is_flag=True, help='直接改写文件')
def fmt(files, check_only, show_diff, write):
    """按统一格式排版政策文件（保留注释与原文，保留简体/繁体关键字写法）。"""
    import difflib
    from polc.dsl.formatter import format_policy
    from polc.dsl.parser import parse
    from polc.dsl.files import FileProblem, write_text
    changed, failed = [], []
    for path in policy_files(files):
        try:
            text = read_source(path)
        except SourceError as exc:
            echo_err(f'{exc.file}: 错误[E-IO]: {exc.message}')
            failed.append(path)
            continue
        result = parse(text, path)
        if result.policy is None or any(d.severity == 'error' for d in result.diagnostics):
            for d in result.diagnostics:
                show_diagnostic(d, text)
            failed.append(path)
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
        if write:               # whole or not at all: a failed write leaves the file as it was
            try:
                write_text(path, new)
            except FileProblem as exc:
                echo_err(f'{exc.path}: 错误[E-IO]: {exc.message}；原文件保持不变')
                changed.pop()
                failed.append(path)
    if check_only:
        for path in changed:
            click.echo(f'需要排版：{path}')
        if failed:
            click.echo(f'{len(changed)} 个文件需要排版；{len(failed)} 个文件无法读取或解析，未检查格式（见上面的错误）')
        else:
            click.echo(f'{len(changed)} 个文件需要排版' if changed else '全部文件已是规范格式')
    elif write:
        click.echo(f'已排版 {len(changed)} 个文件'
                   + (f'；{len(failed)} 个文件无法读取、解析或写入，未排版' if failed else ''))
    if failed:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_DIAG if (check_only and changed) else EXIT_OK)


@click.command()
def lsp():
    """启动语言服务器（标准输入输出，供编辑器使用；需要 pygls）。"""
    try:
        from polc.lsp import main as lsp_main
    except ImportError as exc:
        echo_err(f'错误[E-USAGE]: 语言服务器需要 pygls：pip install "polc[lsp]"（{exc}）')
        sys.exit(EXIT_USAGE)
    lsp_main()
