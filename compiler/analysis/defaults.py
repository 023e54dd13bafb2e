"""Items whose eligibility is met by default values alone (W-DEFAULT-ELIGIBLE).

An input with a default may be left out by an applicant.  When every 条件 of an item reads only
such inputs and they all hold at the defaults, an applicant who filled in none of them is
eligible — as with 漳州（六）「增速不低于行业平均增速」 where both growth rates default to 0%.
The check says so, naming the inputs and their defaults, so that the author either removes the
default (making the fact required) or confirms it.
"""
from __future__ import annotations

from polc.dsl import ast as A
from polc.dsl.analysis import Analysis
from polc.dsl.diagnostics import Diagnostic, warning

from polc.compiler.analysis.interpreter import Interpreter
from polc.compiler.python import runtime as R
from polc.compiler.python.dependencies import _inputs_of


def default_warnings(analysis: Analysis) -> list[Diagnostic]:
    if not analysis.ok:
        return []
    checked = analysis.checked
    p = checked.policy
    interp = Interpreter(checked, analysis.source)
    table = interp.input_table()
    inputs = set(table)
    defines = {d.name.text: d for d in p.defines}
    values = {n: default for n, (_k, _v, default, _d) in table.items()}
    out: list[Diagnostic] = []
    for _c, it in p.items():
        if not it.conditions:
            continue
        used: list[str] = []
        for cond in it.conditions:
            for n in _inputs_of(cond, inputs, defines, set()):
                if n not in used:
                    used.append(n)
        if not used or any(table[n][2] is None for n in used):
            continue
        try:
            holds = all(interp.value(cond, values, None) for cond in it.conditions)
        except Exception:             # a division by zero or an out-of-range year: not eligible
            continue
        if not holds or _confirmed(p, it.name.text, used):
            continue
        shown = '、'.join(f'「{n}」（默认 {R.fmt(table[n][2], table[n][0])}）' for n in used)
        out.append(warning(
            'W-DEFAULT-ELIGIBLE',
            f'项「{it.name.text}」的条件只凭默认值就成立：申请人不填{shown}也符合条件',
            it.conditions[0].span,
            hint='结果会建立在申请人没有给出的事实上。若这些事实必须由申请人填写，去掉「默认」使其必填；'
                 '若默认值确属原意，写一个不填这些事实、期望本项结果的案例加以确认。'
                 'polc eval 会在结果中标出未填的事实，--strict 不计算这类项'
        ).with_file(analysis.file))
    return out


def _confirmed(p: A.Policy, item: str, used: list[str]) -> bool:
    """A case that leaves every one of ``used`` unfilled and states the item's result confirms
    that the defaults are meant."""
    for case in p.cases:
        given = {a.name.text for a in case.inputs}
        if any(n in given for n in used):
            continue
        if any(e.target.text == item and e.kind != 'not_applicable' for e in case.expects):
            return True
    return False
