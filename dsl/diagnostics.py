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


_COLOURS = {'error': '31', 'warning': '33', 'note': '36'}       # ANSI: red, yellow, cyan
_GUTTER = 8                                                     # '   19 | '
_MORE = '...'


def _paint(text: str, code: str, on: bool) -> str:
    return f'\x1b[{code}m{text}\x1b[0m' if on and text else text


def window(text: str, start: int, end: int, width: int) -> tuple[str, int, int]:
    """A part of a long source line around characters [start, end) that fits ``width`` columns,
    with ... where text was left out: (shown text, columns before the caret, caret columns).
    The caret is placed by display width in the shown text, so it stays under its place."""
    if display_width(text) <= width:
        return text, display_width(text[:start]), max(1, display_width(text[start:end]))
    budget = max(width - 2 * len(_MORE), 8)
    a = start
    room = budget // 3                                  # context before the place: a third
    while a > 0 and display_width(text[a - 1:start]) <= room:
        a -= 1
    b = start
    while b < len(text) and display_width(text[a:b + 1]) <= budget:
        b += 1
    b = max(b, min(start + 1, len(text)))
    left = _MORE if a > 0 else ''
    right = _MORE if b < len(text) else ''
    prefix = len(left) + display_width(text[a:start])
    caret = max(1, display_width(text[start:min(end, b)]))
    return left + text[a:b] + right, prefix, caret


def render(d: Diagnostic, source: Optional[str], color: bool = False, width: Optional[int] = None) -> str:
    """file:line:col: 错误[CODE]: message, the source line, a caret by display width, the hint.

    ``color``: ANSI colours (the CLI turns them on for a terminal only, and never with NO_COLOR).
    ``width``: the terminal's columns; a longer source line is shown as a window around the
    caret, so the caret stays under its place instead of drifting when the line wraps."""
    s = d.span
    label = SEVERITY_LABEL.get(d.severity, d.severity)
    colour = _COLOURS.get(d.severity, '0')
    head = _paint(f'{label}[{d.code}]', '1;' + colour, color)
    if s is None:
        out = [f'{d.file}: {head}: {d.message}']
    else:
        out = [_paint(f'{d.file}:{s.line}:{s.col}:', '1', color) + f' {head}: {d.message}']
        if source is not None:
            text = line_at(source, s.line)
            if text:
                shown = text.expandtabs(1)
                gutter = f'{s.line:>5} | '
                start = s.col - 1
                end = s.end_col - 1 if s.end_line == s.line and s.end_col > s.col else s.col
                if width is not None:
                    shown, prefix, caret = window(shown, start, end, width - _GUTTER)
                else:
                    prefix = display_width(shown[:start])
                    caret = max(1, display_width(shown[start:end]))
                out.append(_paint(gutter, '34', color) + shown)
                out.append(_paint(' ' * 5 + ' | ', '34', color) + ' ' * prefix + _paint('^' * caret, '1;' + colour, color))
    if d.hint:
        out.append(_paint('  提示：', '32', color) + d.hint)
    return '\n'.join(out)


def has_errors(diags) -> bool:
    return any(d.severity == 'error' for d in diags)


def is_clean(diags) -> bool:
    """No errors and no warnings (notes do not count)."""
    return not any(d.severity in ('error', 'warning') for d in diags)
