"""Parsing: source text -> AST (Lark LALR with the contextual lexer).

The text is normalised one character for one character before lexing (full-width
forms become half-width), so every position Lark reports is a position in the
original file.  Strings are read back from the original text, so 原文 keeps its
full-width punctuation.
"""
from __future__ import annotations

from decimal import InvalidOperation
from functools import lru_cache
from typing import Optional

import attrs
from lark import Lark
from lark.exceptions import UnexpectedInput

from polc.grammar import grammar_text

from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic, error
from polc.dsl.keywords import KeywordPostLex
from polc.dsl.text import normalize
from polc.dsl.build_ast import ToAst
from polc.dsl.syntax_errors import syntax_diagnostic


@attrs.frozen
class ParseResult:
    policy: Optional[A.Policy]          # None when the file has a syntax error
    diagnostics: tuple[Diagnostic, ...]
    source: str
    # after syntax errors: the policy made of the statements that parsed, and the blanked spans
    partial: Optional[A.Policy] = None
    blanked: tuple[tuple[int, int], ...] = ()


def _read_fingerprint() -> str:
    from pathlib import Path
    here = Path(__file__).resolve().parent
    parts = [grammar_text()] + [(here / f).read_text(encoding='utf-8')
                                for f in ('ast.py', 'parser.py', 'build_exprs.py', 'build_ast.py', 'keywords.py',
                                          'text.py', 'numbers.py')]
    return '\0'.join(parts)


# The grammar and the code that builds the AST, read when this module is imported: a cached AST
# is used only by the same code that made it (a process running older code never shares entries).
_FINGERPRINT = _read_fingerprint()


def _fingerprint() -> str:
    return _FINGERPRINT


@lru_cache(maxsize=1)
def _lark() -> Lark:
    from polc.dsl import cache
    options = dict(parser='lalr', lexer='contextual', postlex=KeywordPostLex(),
                   propagate_positions=True, maybe_placeholders=False)
    d = cache.cache_dir()
    if d is not None:
        path = d / f'grammar-{cache.key(grammar_text())}.lark'
        try:
            return Lark(grammar_text(), cache=str(path), **options)
        except Exception:          # an unreadable cache file: build without it
            pass
    return Lark(grammar_text(), **options)



def parse(source: str, file: str = '<输入>') -> ParseResult:
    """Parse ``source``; never raises on bad input: problems come back as diagnostics."""
    from polc.dsl import cache
    cache_name = f'ast-{cache.key(_fingerprint(), source)}.pickle'
    cached = cache.load(cache_name)
    if isinstance(cached, A.Policy):
        return ParseResult(cached, (), source)
    result = _parse(source, file)
    if result.policy is not None and not result.diagnostics:
        cache.store(cache_name, result.policy)
    return result


def _parse(source: str, file: str) -> ParseResult:
    norm = normalize(source)
    try:
        tree = _lark().parse(norm)
    except UnexpectedInput as exc:
        return _recover(source, norm, file, exc)
    except RecursionError:
        return ParseResult(None, (error('E-TOO-DEEP', '嵌套过深，无法分析', None).with_file(file),),
                           source)
    return _build(source, tree, file)


def _build(source: str, tree, file: str) -> ParseResult:
    builder = ToAst(source)
    try:
        policy = builder.build(tree)
    except (InvalidOperation, ValueError, ArithmeticError) as exc:
        return ParseResult(None, (error('E-NUMBER', f'无法读取的数：{exc}', None).with_file(file),),
                           source)
    return ParseResult(policy, tuple(d.with_file(file) for d in builder.diags), source)


def _recover(source: str, norm: str, file: str, exc: UnexpectedInput) -> ParseResult:
    """Report every syntax error: blank the statement holding each and parse again
    (:mod:`polc.dsl.recovery`); the statements that parse make a partial policy."""
    from polc.dsl.recovery import MAX_ERRORS, blank, blank_unit
    diags = [syntax_diagnostic(exc, norm).with_file(file)]
    blanked: list[tuple[int, int]] = []
    text = norm
    while True:
        pos = _error_pos(exc, text)
        start, end = blank_unit(text, pos)
        if not text[start:end].strip() or len(diags) > MAX_ERRORS:
            return ParseResult(None, tuple(diags), source)
        blanked.append((start, end))
        text = blank(text, start, end)
        try:
            tree = _lark().parse(text)
        except UnexpectedInput as again:
            exc = again
            diags.append(syntax_diagnostic(exc, text).with_file(file))
            continue
        except RecursionError:
            return ParseResult(None, tuple(diags), source)
        built = _build(source, tree, file)
        if built.policy is None:
            return ParseResult(None, tuple(diags) + built.diagnostics, source)
        return ParseResult(None, tuple(diags) + built.diagnostics, source, built.policy, tuple(blanked))


def _error_pos(exc: UnexpectedInput, text: str) -> int:
    pos = getattr(exc, 'pos_in_stream', None)
    tok = getattr(exc, 'token', None)
    if tok is not None and tok.type != '$END' and tok.start_pos is not None:
        pos = tok.start_pos
    if pos is None or (tok is not None and tok.type == '$END'):
        pos = len(text.rstrip())       # an unexpected end: the last statement
        pos = max(0, pos - 1)
    return pos
