"""Diagnostics: located messages in Chinese, rendered with a caret under the place."""
from __future__ import annotations

from typing import Optional

import attrs

from .ast import Span
from .text import display_width, line_at

SEVERITY_LABEL = {'error': '错误', 'warning': '警告', 'note': '提示'}


@attrs.frozen
class Diagnostic:
    severity: str               # error | warning | note
    code: str                   # stable identifier, e.g. E-UNDEFINED
    message: str                # Chinese
    span: Optional[Span] = None
    file: str = '<输入>'
    hint: str = ''              # a suggestion (did you mean …)

    def with_file(self, file: str) -> 'Diagnostic':
        return attrs.evolve(self, file=file)

    @property
    def sort_key(self):
        s = self.span
        return (self.file, s.line if s else 0, s.col if s else 0, self.code, self.message)

    def to_dict(self) -> dict:
        s = self.span
        return {
            'file': self.file,
            'line': s.line if s else None,
            'column': s.col if s else None,
            'end_line': s.end_line if s else None,
            'end_column': s.end_col if s else None,
            'severity': self.severity,
            'code': self.code,
            'message': self.message,
            'hint': self.hint,
        }


def error(code: str, message: str, span: Optional[Span], hint: str = '') -> Diagnostic:
    return Diagnostic('error', code, message, span, hint=hint)


def warning(code: str, message: str, span: Optional[Span], hint: str = '') -> Diagnostic:
    return Diagnostic('warning', code, message, span, hint=hint)


def render(d: Diagnostic, source: Optional[str]) -> str:
    """file:line:col: 错误[CODE]: message, the source line, a caret by display width, the hint."""
    s = d.span
    label = SEVERITY_LABEL.get(d.severity, d.severity)
    if s is None:
        out = [f'{d.file}: {label}[{d.code}]: {d.message}']
    else:
        out = [f'{d.file}:{s.line}:{s.col}: {label}[{d.code}]: {d.message}']
        if source is not None:
            text = line_at(source, s.line)
            if text:
                shown = text.expandtabs(1)
                gutter = f'{s.line:>5} | '
                out.append(gutter + shown)
                prefix = display_width(shown[: s.col - 1])
                if s.end_line == s.line and s.end_col > s.col:
                    width = max(1, display_width(shown[s.col - 1: s.end_col - 1]))
                else:
                    width = max(1, display_width(shown[s.col - 1: s.col]))
                out.append(' ' * 5 + ' | ' + ' ' * prefix + '^' * width)
    if d.hint:
        out.append(f'  提示：{d.hint}')
    return '\n'.join(out)


def has_errors(diags) -> bool:
    return any(d.severity == 'error' for d in diags)


def is_clean(diags) -> bool:
    """No errors and no warnings (notes do not count)."""
    return not any(d.severity in ('error', 'warning') for d in diags)
