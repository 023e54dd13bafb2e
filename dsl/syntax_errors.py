"""Syntax errors: a Lark exception -> one Chinese diagnostic with the place and a hint."""
from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken


from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic, error
from polc.dsl.keywords import (KEYWORDS, describe_terminal, glued_keyword)
from polc.dsl.text import line_col
from polc.dsl.build_exprs import _span_of

KEYWORD_TYPES = frozenset(KEYWORDS) | {'LEGAL_WORD', 'POSTFIX'}

# -------------------------------------------------------------------- errors
_MAX_EXPECTED_SHOWN = 8


def _describe_token(tok: Token) -> str:
    if tok.type == '$END':
        return '文件结尾'
    v = str(tok)
    if len(v) > 20:
        v = v[:20] + '…'
    return f'「{v}」'


def _expected_text(expected) -> str:
    names = sorted({describe_terminal(e) for e in expected})
    if len(names) > _MAX_EXPECTED_SHOWN:
        names = names[:_MAX_EXPECTED_SHOWN] + ['……']
    return '、'.join(names)


_HAN_RUN = re.compile(r'[A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$')


def _glue_hint(norm: str, pos: int) -> str:
    """If the word just before ``pos`` has a keyword glued to it, suggest the split."""
    before = norm[:pos].rstrip(' \t')
    m = _HAN_RUN.search(before)
    if not m:
        # the offending token itself may be the glued word
        m2 = re.match(r'[A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+', norm[pos:])
        word = m2.group(0) if m2 else ''
    else:
        word = m.group(0)
    g = (glued_keyword(word) or _glued_single(word)) if word else None
    if not g:
        return ''
    a, kw, b = g
    split = ' '.join(x for x in (a, kw, b) if x)
    return f'「{word}」中连着关键字「{kw}」；关键字与名称之间要用空格或标点隔开，例如「{split}」，或用「」把名称括起来'


# one-character keywords that are glued to the end of a name in practice: 主体类型是 企业,
# 年度算力服务费在 10万元 (only used for the hint of a syntax error, never to split a name)
_SINGLE_END = ('是', '在', '或', '且', '每')


def _glued_single(word: str):
    if len(word) >= 2 and word[-1] in _SINGLE_END:
        return word[:-1], word[-1], ''
    if len(word) >= 2 and word[0] == '非':
        return '', '非', word[1:]
    return None


def _line_of(norm: str, pos: int) -> str:
    start = norm.rfind('\n', 0, pos) + 1
    end = norm.find('\n', pos)
    return norm[start:end if end >= 0 else len(norm)]


# keywords written before a colon (条件：…, 金额：…, 原文：…)
_COLON_KEYWORDS = frozenset({
    '_ZHENGCE', '_FAWEN', '_WENHAO', '_YINFA', '_SHIXING', '_YOUXIAOZHI', '_YOUXIAOQI', '_TONGJI', '_ZUHE',
    '_ZHUANGTAI', '_GONGTONG', '_LAIYUAN', '_QIANTOU', '_ZEREN', '_YUANWEN', '_JIEDU', '_LEIBIE', '_TIAOJIAN',
    '_JINE', '_MINGE', '_ZONGE', '_FENPEI', '_RIQI', '_SHURU', '_QIWANG'})


def _misspelt_hint(word: str, accepts, before_colon: bool = False) -> str:
    """「条仵」 where 「条件」 is expected: the nearest keyword spelling the parser accepts here
    (before a colon, only the keywords written before one)."""
    import difflib
    if not word or not accepts:
        return ''
    candidates = [sp for t in accepts if t in KEYWORDS and (not before_colon or t in _COLON_KEYWORDS)
                  for sp in KEYWORDS[t]]
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    if not close or close[0] == word:
        return ''
    return f'是否指「{close[0]}」？'


_TITLE_BREAKERS = frozenset({'MONEY', 'INT', 'NUMBER_UNIT', 'PERCENT', 'DECIMAL', 'DATE', 'LPAR', 'RPAR', 'NAME'})


def _context_hint(norm: str, pos: int, tok) -> str:
    """Hints that depend on the statement the error is in."""
    line = _line_of(norm, pos).strip()
    word = re.match(r'[A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]*', line).group(0)
    if word == '案例' and tok is not None and (tok.type in _TITLE_BREAKERS or tok.type in KEYWORD_TYPES):
        title = line[len(word):].strip().replace('"', '')
        return f'案例标题含数字、标点或关键字时，请用引号把标题括起来：案例 "{title}"'
    if word in ('类别', '類別') and tok is not None and tok.type in KEYWORD_TYPES:
        return (f'类别是自由文字（补助、奖励、算力券、免租……）；与关键字同形时请写成带引号的文字 "{tok}"。'
                '非现金待遇的结果写在金额中：金额：非现金 "……"')
    return ''


def syntax_diagnostic(exc: UnexpectedInput, norm: str) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        ch = norm[exc.pos_in_stream] if exc.pos_in_stream < len(norm) else ''
        line, col = exc.line, exc.column
        span = A.Span(line, col, line, col + 1, exc.pos_in_stream, exc.pos_in_stream + 1)
        if ch == '"':
            msg = '字符串缺少结尾的引号「"」'
        elif ch in '「」':
            msg = f'「」括起的名称不完整（缺少配对的括号，或名称跨行）'
        else:
            msg = f'无法识别的字符「{ch}」（U+{ord(ch):04X}）' if ch else '无法识别的内容'
        allowed = getattr(exc, 'allowed', None) or ()
        hint = _glue_hint(norm, exc.pos_in_stream)
        if not hint and allowed:
            hint = f'此处应为：{_expected_text(allowed)}'
        return error('E-SYNTAX', msg, span, hint)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == '$END':
            line, col = line_col(norm, len(norm))
            span = A.Span(line, col, line, col, len(norm), len(norm))
            msg = '文件意外结束'
        else:
            span = _span_of(tok)
            msg = f'此处不应出现{_describe_token(tok)}'
        pos = tok.start_pos if tok.start_pos is not None else len(norm)
        accepts = exc.expected
        try:
            if exc.interactive_parser is not None:
                accepts = exc.interactive_parser.accepts() or accepts
        except Exception:       # accepts() re-runs the parser; fall back to Lark's set
            pass
        hint = _context_hint(norm, pos, tok) if tok.type != '$END' else ''
        if not hint:
            hint = _glue_hint(norm, pos)
        if not hint and tok.type == 'NAME':
            after = norm[tok.end_pos:tok.end_pos + 3].lstrip(' \t') if tok.end_pos is not None else ''
            hint = _misspelt_hint(str(tok), accepts, after[:1] == ':')
        if not hint and tok.type in KEYWORD_TYPES and ('NAME' in (exc.expected or ()) or 'QNAME' in (
                exc.expected or ())):
            if 'QNAME' in (accepts or ()):
                hint = f'「{tok}」是关键字；用作名称时请写成「「{tok}」」，或换一个名称'
            else:                      # a title or a text: quoted with "…"
                hint = f'「{tok}」是关键字；用作文字时请写成 "{tok}"'
        if not hint and tok.type == 'LPAR' and pos > 0 and _HAN_RUN.search(norm[:pos]):
            hint = '文字中含有括号时，请用引号把整段文字括起来，例如 "漳州市……措施（节选）"'
        expected = _expected_text(accepts) if accepts else ''
        if expected:
            msg += f'；应为：{expected}'
        return error('E-SYNTAX', msg, span, hint)
    if isinstance(exc, UnexpectedEOF):
        line, col = line_col(norm, len(norm))
        return error('E-SYNTAX', '文件意外结束', A.Span(line, col, line, col, len(norm), len(norm)))
    return error('E-SYNTAX', '语法错误', None)
