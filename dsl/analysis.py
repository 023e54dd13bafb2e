"""Parse and check in one step: the front end of polc."""
from __future__ import annotations

from typing import Optional

import attrs

from .ast import Policy
from .checks import Checked, check
from .diagnostics import Diagnostic, error, has_errors


@attrs.frozen
class Analysis:
    file: str
    source: str
    policy: Optional[Policy]
    checked: Optional[Checked]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.checked is not None and not has_errors(self.diagnostics)


_DEEP_STACK = 256 * 1024 * 1024
_DEEP_RECURSION = 60000


def with_deep_stack(fn, *args):
    """Run ``fn(*args)`` in a thread with a large stack and recursion limit, so deeply nested
    but legitimate input (a sum of thousands of terms) is analysed instead of overflowing."""
    import sys
    import threading
    out: list = []
    err: list = []

    def run():
        try:
            out.append(fn(*args))
        except BaseException as exc:          # re-raised in the caller's thread
            err.append(exc)

    old_limit = sys.getrecursionlimit()
    try:
        old_size = threading.stack_size(_DEEP_STACK)
    except (ValueError, RuntimeError):        # platform without settable stacks
        return fn(*args)
    try:
        sys.setrecursionlimit(max(old_limit, _DEEP_RECURSION))
        t = threading.Thread(target=run, name='polc-analysis')
        t.start()
        t.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if err:
        raise err[0]
    return out[0]


def analyze(source: str, file: str = '<输入>') -> Analysis:
    """Parse ``source`` and run every check.  Never raises on bad input."""
    return with_deep_stack(_analyze, source, file)


def _analyze(source: str, file: str) -> Analysis:
    from .parser import parse
    result = parse(source, file)
    diags = list(result.diagnostics)
    policy = result.policy if result.policy is not None else result.partial
    if policy is None:
        return Analysis(file, source, None, None, tuple(diags))
    from .desugar import desugar
    from .script import resolve_spellings
    try:
        policy, fold_diags = resolve_spellings(policy)
        policy = desugar(policy)
        checked = check(policy)
        semantic = list(fold_diags) + list(checked.diagnostics)
        if result.policy is None:      # after syntax errors: only what the blanked text cannot explain
            semantic = _not_about_blanked(semantic, source, result.blanked)
        diags.extend(semantic)
    except RecursionError:
        diags.append(error('E-TOO-DEEP', '嵌套过深，无法检查', None))
        return Analysis(file, source, policy, None, tuple(d.with_file(file) for d in diags))
    diags = [d.with_file(file) for d in _unique(diags)]
    diags.sort(key=lambda d: d.sort_key)
    return Analysis(file, source, policy, checked, tuple(diags))


def _unique(diags) -> list:
    """A clause-wide condition is checked once per item: report each problem once."""
    seen, out = set(), []
    for d in diags:
        key = (d.severity, d.code, d.message, d.span)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _not_about_blanked(diags, source: str, blanked) -> list:
    """Drop the diagnostics that name something written in a statement with a syntax error
    (an input whose declaration did not parse is not 'undefined' nor 'unused')."""
    import re
    texts = [source[s:e] for s, e in blanked]
    out = []
    for d in diags:
        names = re.findall(r'「([^「」]+)」', d.message)
        if any(n in t for n in names for t in texts):
            continue
        out.append(d)
    return out


class SourceError(Exception):
    """A policy file that cannot be read (missing, not UTF-8 …)."""

    def __init__(self, file: str, message: str):
        super().__init__(f'{file}: {message}')
        self.file = file
        self.message = message


def read_source(path) -> str:
    """Read a .pol file as UTF-8 (a BOM is allowed); clear errors otherwise.  Only a regular file
    of at most 64 MiB (``POLC_MAX_INPUT_BYTES``) is read (:func:`polc.dsl.files.read_bounded`)."""
    from .files import FileProblem, read_bounded
    try:
        data = read_bounded(str(path))
    except FileProblem as exc:
        message = '这是一个目录，不是政策文件' if exc.message == '这是一个目录' else exc.message
        raise SourceError(str(path), message) from None
    if data.startswith(b'\xff\xfe') or data.startswith(b'\xfe\xff'):
        raise SourceError(str(path), '文件是 UTF-16 编码；政策文件应使用 UTF-8 编码')
    if b'\x00' in data:
        raise SourceError(str(path), '文件含有空字符（NUL），不是文本文件；政策文件应为 UTF-8 文本')
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        hint = ''
        try:
            data.decode('gb18030')
            hint = '（看起来是 GBK/GB18030 编码，请另存为 UTF-8）'
        except UnicodeDecodeError:
            pass
        raise SourceError(str(path), f'不是 UTF-8 编码：第 {exc.start} 字节无法解码{hint}') from None
    return text
