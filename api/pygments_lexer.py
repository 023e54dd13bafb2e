"""A Pygments lexer for .pol files (``pygmentize -l pol``), registered as an entry point."""
from __future__ import annotations

from pygments.lexer import RegexLexer
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String,
                            Text, Whitespace)

from polc.dsl.keywords import SPELLING_TO_TYPE

_HAN = r'[A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+'
_DECL = {'_ZHENGCE', '_SHURU', '_DINGYI', '_TIAOKUAN', '_XIANG', '_ZU', '_ANLI'}


def _han_run(lexer, match):
    word = match.group(0)
    t = SPELLING_TO_TYPE.get(word)
    if t is None:
        yield match.start(), Name.Variable, word
    elif t in _DECL:
        yield match.start(), Keyword.Declaration, word
    elif t in ('LEGAL_WORD', 'POSTFIX', 'RANGE_SEP', '_QIE', '_HUO', '_FEI', '_ZAI', '_SHUYU'):
        yield match.start(), Operator.Word, word
    elif t in ('_SHI', '_FOU'):
        yield match.start(), Keyword.Constant, word
    else:
        yield match.start(), Keyword, word


class PolLexer(RegexLexer):
    name = 'Pol'
    aliases = ['pol', 'polc']
    filenames = ['*.pol']
    mimetypes = ['text/x-pol']

    tokens = {
        'root': [
            (r'[ \t\r\n\u3000\ufeff]+', Whitespace),
            (r'[#＃][^\n]*', Comment.Single),
            (r'["＂](\\.|[^"＂\\])*["＂]', String.Double),
            (r'「[^「」\n]+」', Name.Variable),
            (r'[(（](含|不含)[)）]', Keyword.Pseudo),
            (r'[0-9０-９]{4}[-－][0-9０-９]{1,2}[-－][0-9０-９]{1,2}', Number.Other),
            (r'[0-9０-９]{4}年[0-9０-９]{1,2}月[0-9０-９]{1,2}日', Number.Other),
            (r'[0-9０-９]+([.．][0-9０-９]+)?(万元|萬元|亿元|億元|元|万|萬|亿|億|[%％])?', Number),
            (r'[≥≤≠><=＞＜＝+\-−×÷*/～~—]', Operator),
            (r'[()（）:：,，、;；.．]', Punctuation),
            (_HAN, _han_run),
            (r'.', Text),
        ],
    }
