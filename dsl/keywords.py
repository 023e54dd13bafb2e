"""Keyword spellings of the .pol language (simplified and traditional).

The lexer reads every run of Han characters as one NAME token; the post-lexer
(:class:`KeywordPostLex`) turns a NAME whose whole text is one of the spellings
below into that keyword's token.  A keyword is therefore recognised only when
it stands alone, separated from names by spaces or punctuation.
"""
from __future__ import annotations

from lark import Token

# terminal name -> spellings (simplified first; the formatter writes the first
# spelling unless the file is written in traditional characters).
KEYWORDS: dict[str, tuple[str, ...]] = {
    '_ZHENGCE': ('政策',),
    '_BAOZHENG': ('保证', '保證'),
    '_FENPEI': ('分配',),
    '_JILU': ('记录', '記錄'),
    '_MEIGE': ('每个', '每個'),
    '_MEIJIA': ('每家最高',),
    '_MEIJIA_MEINIAN': ('每家每年最高',),
    '_SUI': ('随', '隨'),
    '_BUJIAN': ('不减', '不減'),
    '_LAIYUAN': ('来源', '來源'),
    '_FAWEN': ('发文机关', '發文機關'),
    '_WENHAO': ('文号', '文號'),
    '_YINFA': ('印发日期', '印發日期'),
    '_SHIXING': ('施行日期',),
    '_YOUXIAOZHI': ('有效期至',),
    '_YOUXIAOQI': ('有效期',),
    '_NIAN': ('年',),
    '_TONGJI': ('统计起始', '統計起始'),
    '_ZUHE': ('组合原则', '組合原則'),
    '_BILI_SHANGXIAN': ('比例均为上限', '比例均為上限'),
    '_ZHUANGTAI': ('状态', '狀態'),
    '_GONGTONG': ('共同责任单位', '共同責任單位'),
    '_YUANWEN': ('原文',),
    '_JIEDU': ('解读', '解讀'),
    '_SHURU': ('输入', '輸入'),
    '_MOREN': ('默认', '默認'),
    '_JINE': ('金额', '金額'),
    '_BAIFENBI': ('百分比',),
    '_ZHENGSHU': ('整数', '整數'),
    '_SHIFOU': ('是否',),
    '_RIQI': ('日期',),
    '_MEIJU': ('枚举', '枚舉'),
    '_DINGYI': ('定义', '定義'),
    '_TIAOKUAN': ('条款', '條款'),
    '_QIANTOU': ('牵头单位', '牽頭單位'),
    '_ZEREN': ('责任单位', '責任單位'),
    '_XIANG': ('项', '項'),
    '_LEIBIE': ('类别', '類別'),
    '_TIAOJIAN': ('条件', '條件'),
    '_MINGE': ('每年名额', '每年名額'),
    '_ZONGE': ('每年总额', '每年總額'),
    '_ZU': ('组', '組'),
    '_JIUGAO': ('就高',),
    '_HEJI': ('合计', '合計'),
    '_ANLI': ('案例',),
    '_QIWANG': ('期望',),
    '_BUSHIYONG': ('不适用', '不適用'),
    '_YISHIYIYI': ('一事一议', '一事一議'),
    '_ANGUIDING': ('按规定享受', '按規定享受'),
    '_FEIXIANJIN': ('非现金', '非現金'),
    '_BUSHEJINE': ('不设金额', '不設金額'),
    '_WEICAIYONG': ('未采用', '未採用'),
    '_ZUIGAO': ('最高',),
    '_FENDANG': ('分档', '分檔'),
    '_DANG': ('当', '當'),
    '_FOUZE': ('否则', '否則'),
    '_HUO': ('或',),
    '_QIE': ('且',),
    '_FEI': ('非',),
    '_ZAI': ('在',),
    '_SHI': ('是',),
    '_FOU': ('否',),
    '_SHUYU': ('属于', '屬於'),
    '_MEIMAN': ('每满', '每滿'),
    '_MEI': ('每',),
    '_MEINIAN': ('每年',),
    '_GEIYU': ('给予', '給予'),
    '_ANNIAN': ('按年',),
    '_JINJI': ('晋级补差', '晉級補差'),
    '_YIHUO': ('已获', '已獲'),
    '_FENBIE': ('分别', '分別'),
    '_QUGAO': ('取高',),
    '_QUDI': ('取低',),
    '_SHIYONG': ('适用条件', '適用條件', '申报条件', '申報條件'),
    '_LEIJI': ('累计最高', '累計最高'),
    '_AN': ('按',),
    '_PEITAO': ('配套',),
}

# Comparison words (PRC Civil Code art. 1259 and plain meaning) -> operator.
LEGAL_WORDS: dict[str, str] = {
    '达到': '>=', '達到': '>=',
    '不低于': '>=', '不低於': '>=',
    '不少于': '>=', '不少於': '>=',
    '不超过': '<=', '不超過': '<=',
    '超过': '>', '超過': '>',
    '高于': '>', '高於': '>',
    '大于': '>', '大於': '>',
    '多于': '>', '多於': '>',
    '不满': '<', '不滿': '<',
    '低于': '<', '低於': '<',
    '小于': '<', '小於': '<',
    '少于': '<', '少於': '<',
    '等于': '==', '等於': '==',
}

# 以上/以下/以内 include the number (art. 1259).
POSTFIX_WORDS: dict[str, str] = {
    '以上': '>=', '以下': '<=', '以内': '<=', '以內': '<=',
}

RANGE_WORDS = ('至', '到')

# spelling -> token type
SPELLING_TO_TYPE: dict[str, str] = {}
for _type, _spellings in KEYWORDS.items():
    for _s in _spellings:
        SPELLING_TO_TYPE[_s] = _type
for _s in LEGAL_WORDS:
    SPELLING_TO_TYPE[_s] = 'LEGAL_WORD'
for _s in POSTFIX_WORDS:
    SPELLING_TO_TYPE[_s] = 'POSTFIX'
for _s in RANGE_WORDS:
    SPELLING_TO_TYPE[_s] = 'RANGE_SEP'

ALL_SPELLINGS: tuple[str, ...] = tuple(sorted(SPELLING_TO_TYPE, key=lambda s: (-len(s), s)))

# Human-readable names of the punctuation and literal terminals, for messages.
TERMINAL_DESCRIPTIONS: dict[str, str] = {
    '_COLON': '「：」',
    '_SEP': '「，」或「、」',
    'LPAR': '「（」',
    'RPAR': '「）」',
    'SEMICOLON': '「；」',
    'EQUAL': '「=」',
    'MINUS': '「-」',
    'CMP_OP': '比较符号（≥ ≤ > < = ≠）',
    'ADD_OP': '「+」或「-」',
    'MUL_OP': '「×」或「÷」',
    'INCL': '「（含）」或「（不含）」',
    'POSTFIX': '「以上」「以下」或「以内」',
    'LEGAL_WORD': '比较用语（达到、不低于、超过、不满……）',
    'RANGE_SEP': '「至」',
    'DATE': '日期（如 2024-08-13）',
    'MONEY': '金额（如 100万元）',
    'NUMBER_UNIT': '数（如 10亿）',
    'PERCENT': '百分比（如 30%）',
    'DECIMAL': '小数',
    'INT': '整数',
    'CLAUSE_NO': '条款编号（如 （二）、二、、2.、二（三）、第三条第二款）',
    'RATIO': '比例（如 1:0.5）',
    'NAME': '名称',
    'QNAME': '「」括起的名称',
    'STRING': '带引号的文字（"……"）',
    '$END': '文件结尾',
}


def describe_terminal(name: str) -> str:
    """A Chinese description of a terminal, never a Lark-internal name."""
    if name in KEYWORDS:
        return '「' + KEYWORDS[name][0] + '」'
    return TERMINAL_DESCRIPTIONS.get(name, '符号')


def is_traditional_spelling(spelling: str) -> bool:
    t = SPELLING_TO_TYPE.get(spelling)
    return t in KEYWORDS and KEYWORDS[t].index(spelling) > 0


def glued_keyword(name: str) -> tuple[str, str, str] | None:
    """If a name has a keyword glued to its start or end, return (before, keyword, after).

    ``营业收入达到`` -> ('营业收入', '达到', '').  Only keywords of two or more
    characters are considered inside a name, and one-character keywords only at
    an end, so that ordinary names such as 年度营业收入 are not flagged.
    """
    for kw in ALL_SPELLINGS:
        if kw == name or len(kw) > len(name):
            continue
        if name.endswith(kw) and (len(kw) >= 2):
            return name[: -len(kw)], kw, ''
        if name.startswith(kw) and (len(kw) >= 2):
            return '', kw, name[len(kw):]
    for kw in ALL_SPELLINGS:
        if len(kw) >= 2 and kw in name[1:-1]:
            i = name.index(kw, 1)
            return name[:i], kw, name[i + len(kw):]
    return None


class KeywordPostLex:
    """Lark post-lexer: NAME tokens spelled exactly like a keyword become that keyword."""

    always_accept = ('NAME',)

    def process(self, stream):
        lookup = SPELLING_TO_TYPE
        for tok in stream:
            if tok.type == 'NAME':
                t = lookup.get(tok.value)
                if t is not None:
                    tok = Token.new_borrow_pos(t, tok.value, tok)
            yield tok
