"""Checks of a policy's structure: header and dates, duplicate names and clause numbers, items, rates, groups, inputs, guarantees, unused names."""
from __future__ import annotations

import difflib


from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic, error, warning
from polc.dsl.symbols import Symbols
from polc.dsl.checks.cases import literal_problem
from polc.dsl.checks.typecheck import type_name


ALLOCATION_RULES = ('按金额', '按申请顺序', '按比例')


KNOWN_PRINCIPLES = {
    '就高': 'highest', '从优': 'most_favourable', '從優': 'most_favourable',
    '不重复': 'no_double', '不重複': 'no_double', '就高不重复': 'highest_no_double',
    '就高不重複': 'highest_no_double', '同一企业同一项目仅享受其中一项': 'one_per_project',
    '同一企業同一項目僅享受其中一項': 'one_per_project', '择一': 'one_per_project',
    # spellings used by other cities for the same principles (issue 14): 从高 = 就高
    '从高': 'highest', '从高不重复': 'highest_no_double', '就高从优': 'highest', '从高从优': 'highest',
    '不重复享受': 'no_double', '就高不重复享受': 'highest_no_double', '从高不重复享受': 'highest_no_double',
    '就高从优不重复': 'highest_no_double',
}


def principle_meaning(word: str):
    """What a 组合原则 word means (simplified and traditional spellings alike), or None."""
    from polc.dsl.script import fold
    return KNOWN_PRINCIPLES.get(word) or KNOWN_PRINCIPLES.get(fold(word))


# ------------------------------------------------------------------ individual checks
def check_header(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out = []
    seen: dict[str, A.HeaderField] = {}
    for f in p.header:
        if f.key in ('source', 'reading'):
            continue
        if f.key in seen:
            out.append(error('E-DUPLICATE-HEADER', f'政策头中「{_HEADER_LABELS[f.key]}」写了两次', f.span))
        seen[f.key] = f
    if 'name' not in seen:
        out.append(error('E-HEADER-MISSING', '缺少政策名称（政策：……）', None))
    if 'expiry' in seen and 'duration' in seen:
        out.append(error('E-DUPLICATE-HEADER', '「有效期至」与「有效期」只能写一个', seen['duration'].span))
    if 'duration' in seen and seen['duration'].value <= 0:
        out.append(error('E-DATES', '有效期应大于零年', seen['duration'].span))
    if 'duration' in seen and 'effective' not in seen and 'issued' not in seen:
        out.append(warning('W-VALIDITY-UNKNOWN',
                           '写了「有效期」却没有施行日期或印发日期，无法判断评估日期是否在有效期内',
                           seen['duration'].span))
    order = [('issued', 'effective', '印发日期不应晚于施行日期'),
             ('effective', 'expiry', '施行日期应早于有效期截止日'),
             ('issued', 'expiry', '印发日期应早于有效期截止日'),
             ('stats_start', 'expiry', '统计起始日期应早于有效期截止日')]
    for a, b, msg in order:
        if a in seen and b in seen and seen[a].value > seen[b].value:
            out.append(error('E-DATES', f'日期顺序有误：{msg}（{seen[a].value} > {seen[b].value}）',
                             seen[b].span))
    if 'principle' in seen:
        for w in seen['principle'].value:
            if principle_meaning(w) is None:
                out.append(error('E-PRINCIPLE', f'未知的组合原则「{w}」', seen['principle'].span,
                                 '可用：' + '、'.join(sorted(KNOWN_PRINCIPLES))))
    return out


_HEADER_LABELS = {'name': '政策', 'issuer': '发文机关', 'docno': '文号', 'issued': '印发日期',
                  'effective': '施行日期', 'expiry': '有效期至', 'duration': '有效期',
                  'stats_start': '统计起始', 'principle': '组合原则', 'rates_are_maxima': '比例均为上限',
                  'status': '状态', 'source_file': '来源', 'shared_units': '共同责任单位', 'source': '原文', 'reading': '解读'}


def check_duplicates(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out = []
    numbers: dict[str, A.Clause] = {}
    chapter = ''
    for c in p.clauses:
        key = _clause_key(c.number)
        if key.startswith('dun:'):
            chapter = key[4:]
        elif key.startswith('paren:'):            # （一） under 二、 is 二（一）
            key = f'sub:{chapter}（{key[6:]}）'
        elif key.startswith('sub:'):
            pass
        else:
            chapter = ''
        if key in numbers:
            first = numbers[key]
            where = f'第 {first.span.line} 行' if first.span is not None else '前面'
            out.append(error('E-DUPLICATE-CLAUSE',
                             f'条款编号「{c.number}」重复：{where}的条款「{first.number}{first.title}」已用此编号',
                             c.span, '不同层级的编号（一、与（一））可以并存；同一层级的编号须不同。'
                                     '各章下的（一）（二）……重复时，写成带章号的编号，如 二（一）、三（一）'))
        else:
            numbers[key] = c
    seen: dict[str, str] = {}
    kinds = ([(d.name, '输入') for d in p.inputs] + [(d.name, '定义') for d in p.defines] +
             [(it.name, '项') for _, it in p.items()] + [(g.name, '组') for g in p.groups])
    for name, kind in kinds:
        if name.text in seen:
            out.append(error('E-DUPLICATE-NAME',
                             f'名称「{name.text}」重复（已作为{seen[name.text]}声明）', name.span))
        else:
            seen[name.text] = kind
        if name.text in sym.all_enum_values and kind != '输入':
            out.append(error('E-DUPLICATE-NAME', f'名称「{name.text}」与枚举值同名', name.span))
    for d in p.inputs:
        if d.type.kind == 'enum':
            vals = [v.text for v in d.type.values]
            for v in d.type.values:
                if vals.count(v.text) > 1:
                    out.append(error('E-DUPLICATE-NAME', f'枚举值「{v.text}」重复', v.span))
                    break
    return out


def _clause_key(number: str) -> str:
    """Numbers of one level compare equal however written ((一) and （一）, 2. and 2); levels
    differ: 一、 (a chapter) is not （一） (a clause under it)."""
    from polc.dsl.text import normalize
    n = normalize(number).strip()
    if n.endswith('、'):
        return 'dun:' + n[:-1]
    if n.startswith('(') and n.endswith(')'):
        return 'paren:' + n[1:-1]
    if '(' in n and n.endswith(')'):                 # 二(三): the chapter written out
        return f'sub:{n[:n.index("(")]}（{n[n.index("(") + 1:-1]}）'
    return 'plain:' + n.rstrip('.')


def check_items(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out = []
    for c, it in p.items():
        if it.amount is None:
            out.append(error('E-NO-AMOUNT', f'项「{it.name.text}」没有写「金额」', it.span,
                             '非现金待遇写「金额：非现金 "……"」；本措施未定金额写「金额：不设金额」'))
        if it.quota is not None and it.quota <= 0:
            out.append(error('E-QUOTA', '每年名额应大于零', it.span))
        if it.allocation:
            if it.allocation not in ALLOCATION_RULES:
                out.append(error('E-ALLOCATION', f'未知的分配方式「{it.allocation}」', it.span,
                                 '可用：' + '、'.join(ALLOCATION_RULES)))
            elif it.quota is None and it.pool is None:
                out.append(warning('W-ALLOCATION', f'项「{it.name.text}」写了分配方式，但没有名额或总额', it.span))
            elif it.allocation == '按比例' and it.pool is None:
                out.append(error('E-ALLOCATION', '「按比例」只用于每年总额（资金池），名额请按金额或按申请顺序分配',
                                 it.span))
    return out


def check_rates(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    """A percentage above 100% used as a rate (outside a comparison)."""
    out = []
    in_comparison: set[int] = set()
    for n in A.walk(p):
        if isinstance(n, (A.Compare, A.Range)):
            for m in A.walk(n):
                in_comparison.add(id(m))
    for n in A.walk(p):
        if isinstance(n, A.Percent) and n.value > 1 and id(n) not in in_comparison:
            out.append(error('E-RATE-OVER-100', f'比例 {n.text} 超过 100%', n.span))
        if isinstance(n, A.Money) and n.value < 0:
            out.append(error('E-NEGATIVE-MONEY', f'金额 {n.text} 为负数', n.span))
    return out


def check_groups(p: A.Policy, sym: Symbols, types: dict[int, str]) -> list[Diagnostic]:
    out = []
    parent: dict[str, str] = {}
    for g in p.groups:
        if len(g.members) < 2 and g.mode == 'highest':
            out.append(warning('W-GROUP-SIZE', f'组「{g.name.text}」只有一个成员，「就高」不起作用', g.span))
        for m in g.members:
            if m.text not in sym.items and m.text not in sym.groups:
                close = difflib.get_close_matches(m.text, sym.target_names(), n=1, cutoff=0.5)
                out.append(error('E-UNDEFINED', f'组「{g.name.text}」的成员「{m.text}」不是已声明的项或组',
                                 m.span, f'是否指「{close[0]}」？' if close else ''))
                continue
            if m.text in parent:
                out.append(error('E-GROUP-MEMBERSHIP',
                                 f'「{m.text}」已在组「{parent[m.text]}」中，一项只能直接属于一个组', m.span))
            parent[m.text] = g.name.text
            if m.text == g.name.text:
                out.append(error('E-CYCLE', f'组「{g.name.text}」包含了自身', m.span))
        if g.cap is not None and types.get(id(g.cap)) not in (None, 'money'):
            out.append(error('E-TYPE', '组的合计上限应为金额', g.cap.span))
        if g.cap is not None and any(isinstance(n, A.Ref) for n in A.walk(g.cap)):
            out.append(error('E-GROUP-CAP', '组的合计上限应为固定金额（如 100万元），不能引用输入', g.cap.span))
    # cycles through nested groups
    for g in p.groups:
        seen = {g.name.text}
        cur = g.name.text
        while cur in parent:
            cur = parent[cur]
            if cur in seen:
                out.append(error('E-CYCLE', f'组「{g.name.text}」与其他组相互包含', g.span))
                break
            seen.add(cur)
    return out


def check_inputs(p: A.Policy, sym: Symbols, types: dict[int, str]) -> list[Diagnostic]:
    out = []
    for d in p.inputs:
        if d.default is None:
            continue
        problem = literal_problem(d.default, d, sym)
        if problem:
            out.append(error('E-DEFAULT-TYPE', f'输入「{d.name.text}」的默认值{problem}', d.default.span))
    return out


def check_guarantees(p: A.Policy, sym: Symbols, types: dict[int, str]) -> list[Diagnostic]:
    out = []
    for g in p.guarantees:
        if g.target is not None and g.target.text not in sym.items and g.target.text not in sym.groups:
            close = difflib.get_close_matches(g.target.text, sym.target_names(), n=1, cutoff=0.5)
            out.append(error('E-UNDEFINED', f'保证的对象「{g.target.text}」不是已声明的项或组（合计写「合计」）',
                             g.target.span, f'是否指「{close[0]}」？' if close else ''))
        if g.kind == 'bound' and types.get(id(g.bound)) not in (None, 'money'):
            out.append(error('E-TYPE', f'保证的界限应为金额，这里是{type_name(types.get(id(g.bound)))}',
                             g.bound.span))
        if g.kind == 'monotone':
            d = sym.inputs.get(g.input.text)
            if d is None:
                out.append(error('E-UNDEFINED', f'「随」后应是已声明的输入，「{g.input.text}」不是', g.input.span))
            elif d.type.kind not in ('money', 'int', 'percent'):
                out.append(error('E-TYPE', f'「随…不减」只用于金额、整数或百分比输入，「{g.input.text}」是'
                                           f'{type_name(d.type.kind)}', g.input.span))
    return out


def check_unused(p: A.Policy, sym: Symbols, used: set[str]) -> list[Diagnostic]:
    out = []
    for d in p.inputs:
        if d.name.text not in used:
            out.append(warning('W-UNUSED', f'输入「{d.name.text}」没有被任何规则使用', d.name.span))
    for d in p.defines:
        if d.name.text not in used:
            out.append(warning('W-UNUSED', f'定义「{d.name.text}」没有被任何规则使用', d.name.span))
    return out
