"""Write editors/vscode/syntaxes/pol.tmLanguage.json from polc's keyword table.

    python editors/gen_textmate.py         # rewrite the grammar
A test checks that the committed file equals what this script writes.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from polc.dsl.keywords import SPELLING_TO_TYPE

OUT = Path(__file__).resolve().parent / 'vscode' / 'syntaxes' / 'pol.tmLanguage.json'
_DECL = {'_ZHENGCE', '_SHURU', '_DINGYI', '_TIAOKUAN', '_XIANG', '_ZU', '_ANLI'}
_OPS = {'LEGAL_WORD', 'POSTFIX', 'RANGE_SEP', '_QIE', '_HUO', '_FEI', '_ZAI', '_SHUYU'}
_HAN = r'A-Za-z_\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{F900}-\x{FAFF}'


def _words(pred) -> str:
    words = sorted((w for w, t in SPELLING_TO_TYPE.items() if pred(t) and re.fullmatch(r'\w+', w)),
                   key=lambda w: (-len(w), w))
    # a keyword only when it is the whole run of Han characters
    return rf'(?<![{_HAN}])(?:' + '|'.join(words) + rf')(?![{_HAN}])'


def grammar() -> dict:
    return {
        '$schema': 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
        'name': 'Pol',
        'scopeName': 'source.pol',
        'fileTypes': ['pol'],
        'patterns': [
            {'name': 'comment.line.number-sign.pol', 'match': '[#＃].*$'},
            {'name': 'string.quoted.double.pol', 'begin': '["＂]', 'end': '["＂]',
             'patterns': [{'name': 'constant.character.escape.pol', 'match': r'\\.'}]},
            {'name': 'variable.other.quoted.pol', 'match': '「[^「」]+」'},
            {'name': 'keyword.other.inclusive.pol', 'match': r'[(（](含|不含)[)）]'},
            {'name': 'constant.numeric.date.pol',
             'match': r'[0-9０-９]{4}[-－][0-9０-９]{1,2}[-－][0-9０-９]{1,2}|[0-9０-９]{4}年[0-9０-９]{1,2}月[0-9０-９]{1,2}日'},
            {'name': 'constant.numeric.pol',
             'match': r'[0-9０-９]+([.．][0-9０-９]+)?(万元|萬元|亿元|億元|元|万|萬|亿|億|[%％])?'},
            {'name': 'storage.type.declaration.pol', 'match': _words(lambda t: t in _DECL)},
            {'name': 'keyword.operator.word.pol', 'match': _words(lambda t: t in _OPS)},
            {'name': 'keyword.control.pol',
             'match': _words(lambda t: t not in _DECL and t not in _OPS)},
            {'name': 'keyword.operator.pol', 'match': '[≥≤≠><=＞＜＝+\\-−×÷*/～~—]'},
        ],
    }


def render() -> str:
    return json.dumps(grammar(), ensure_ascii=False, indent=2) + '\n'


if __name__ == '__main__':
    OUT.write_text(render(), encoding='utf-8')
    print(f'wrote {OUT}')
