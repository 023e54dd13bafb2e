"""What the commands share: exit codes, error output, loading a policy or exiting with its diagnostics."""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Optional

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
        echo_err(f'错误[E-USAGE]: --date：无法读作日期：「{date}」（应为 "2025-03-01"）')
        sys.exit(EXIT_USAGE)
    return day


def distinct_or_exit(inputs, outputs) -> None:
    """Before any work: refuse an output that is an input or another output (the same file, also
    through a link); ``inputs`` and ``outputs`` are pairs of the option's label and the path."""
    from polc.dsl.files import PathClash, check_distinct
    try:
        check_distinct(inputs, outputs)
    except PathClash as exc:
        echo_err(f'错误[E-SAME-FILE]: {exc.message}')
        sys.exit(EXIT_USAGE)


def write_or_exit(path: str, text: str) -> None:
    """Write a text output whole or not at all (temporary file, then rename); exit 2 on failure."""
    from polc.dsl.files import FileProblem, write_text
    try:
        write_text(path, text)
    except FileProblem as exc:
        echo_err(f'{exc.path}: 错误[E-IO]: {exc.message}；原有文件保持不变')
        sys.exit(EXIT_USAGE)


@contextlib.contextmanager
def exit_on(*cases):
    """Inside the block, an exception of one of ``cases`` ((exception type, message of the
    exception), the first that matches) is said on stderr and exits 2: the commands' one way of
    turning a failure into a Chinese message and an exit code."""
    try:
        yield
    except tuple(t for t, _m in cases) as exc:
        echo_err(next(message(exc) for t, message in cases if isinstance(exc, t)))
        sys.exit(EXIT_USAGE)


def echo_err(text: str) -> None:
    click.echo(text, err=True)


def colour_for(stream) -> tuple[bool, Optional[int]]:
    """(colours on?, columns) for a stream: colours and windowed source lines only on a terminal,
    and no colours when NO_COLOR is set (https://no-color.org)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        return False, None
    import shutil
    return 'NO_COLOR' not in os.environ, shutil.get_terminal_size((100, 24)).columns


def show_diagnostic(d, text, err: bool = True) -> None:
    """A diagnostic on stderr (or stdout), coloured and windowed for a terminal."""
    color, width = colour_for(sys.stderr if err else sys.stdout)
    click.echo(render(d, text, color=color, width=width), err=err)


def load_or_exit(path: str, failure: Optional[str] = None, code: int = EXIT_DIAG):
    """Read, check and compile a policy; print diagnostics and exit on errors (with ``code``, and
    「path：failure」 when given; a file that cannot be read exits 2)."""
    try:
        text = read_source(path)
    except SourceError as exc:
        echo_err(f'{exc.file}: 错误[E-IO]: {exc.message}')
        sys.exit(EXIT_USAGE)
    analysis = analyze(text, path)
    if has_errors(analysis.diagnostics):
        for d in analysis.diagnostics:
            show_diagnostic(d, text)
        echo_err(f'{path}：{failure or "政策有错误，无法执行"}')
        sys.exit(code)
    try:
        return compile_analysis(analysis)
    except PolcError as exc:
        for d in exc.diagnostics:
            show_diagnostic(d, text)
        if failure:
            echo_err(f'{path}：{failure}')
        sys.exit(code)


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
