"""What the commands share: exit codes, error output, loading a policy or exiting with its diagnostics."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from polc.dsl.analysis import SourceError, analyze, read_source
from polc.dsl.diagnostics import has_errors, render

from polc.compiler.facts import FactsFileError, read_facts
from polc.compiler.python.loader import PolcError, compile_analysis
from polc.compiler.python.runtime import FactsError

EXIT_OK, EXIT_DIAG, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def day_or_exit(date):
    """The evaluation date given with --date (today when not given); exit 2 if unreadable."""
    import datetime as _dt
    from polc.compiler.python.runtime import parse_date
    day = parse_date(date) if date is not None else _dt.date.today()
    if day is None:
        echo_err(f'错误[E-USAGE]: 无法读作日期：{date!r}（应为 "2025-03-01"）')
        sys.exit(EXIT_USAGE)
    return day


def echo_err(text: str) -> None:
    click.echo(text, err=True)


def load_or_exit(path: str):
    """Read, check and compile a policy; print diagnostics and exit on errors."""
    try:
        text = read_source(path)
    except SourceError as exc:
        echo_err(f'{exc.file}: 错误[E-IO]: {exc.message}')
        sys.exit(EXIT_USAGE)
    analysis = analyze(text, path)
    if has_errors(analysis.diagnostics):
        for d in analysis.diagnostics:
            echo_err(render(d, text))
        echo_err(f'{path}：政策有错误，无法执行')
        sys.exit(EXIT_DIAG)
    try:
        return compile_analysis(analysis)
    except PolcError as exc:
        for d in exc.diagnostics:
            echo_err(render(d, text))
        sys.exit(EXIT_DIAG)


def policy_files(paths) -> list[str]:
    out = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(str(x) for x in sorted(path.rglob('*.pol')))
        else:
            out.append(str(path))
    return out


def evaluate_or_exit(compiled, facts_path, date, explain, strict=False):
    try:
        facts = read_facts(facts_path)
    except FactsFileError as exc:
        echo_err(f'错误[E-FACTS]: {exc}')
        sys.exit(EXIT_USAGE)
    try:
        return compiled.evaluate(facts, date=date, explain=explain, strict=strict)
    except FactsError as exc:
        for name, msg in exc.problems:
            echo_err(f'错误[E-FACTS]: {facts_path}: 「{name}」：{msg}' if name else
                      f'错误[E-FACTS]: {facts_path}: {msg}')
        sys.exit(EXIT_USAGE)
