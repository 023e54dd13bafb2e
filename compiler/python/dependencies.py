"""Which inputs (facts) each item's result depends on, through definitions.

Appended to a generated module as ``META['item_inputs']``: item -> (inputs its conditions read,
all inputs it reads).  The runtime uses it to say which of them the applicant did not fill in
(the explanation marks them, "未填，按默认值 0% 计") and, in strict mode, to refuse an item
whose conditions rest on unfilled facts.
"""
from __future__ import annotations

from polc.dsl import ast as A


def _inputs_of(node, inputs: set, defines: dict, seen: set) -> list[str]:
    out: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Ref):
            if n.name in inputs and n.name not in out:
                out.append(n.name)
            elif n.name in defines and n.name not in seen:
                seen.add(n.name)
                for x in _inputs_of(defines[n.name].expr, inputs, defines, seen):
                    if x not in out:
                        out.append(x)
            continue
        stack.extend(reversed(A.children(n)))
    return out


def _conditions(item: A.Item) -> list:
    out = list(item.conditions)
    stack = [item.amount]
    while stack:
        am = stack.pop()
        if isinstance(am, A.Tiers):
            out.extend(t.condition for t in am.tiers)
            stack.extend(t.amount for t in am.tiers)
            if am.otherwise is not None:
                stack.append(am.otherwise)
    return out


def item_inputs(policy: A.Policy) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    inputs = {d.name.text for d in policy.inputs}
    defines = {d.name.text: d for d in policy.defines}
    out = {}
    for _c, it in policy.items():
        cond: list[str] = []
        for e in _conditions(it):
            for x in _inputs_of(e, inputs, defines, set()):
                if x not in cond:
                    cond.append(x)
        every = list(cond)
        if it.amount is not None:
            for x in _inputs_of(it.amount, inputs, defines, set()):
                if x not in every:
                    every.append(x)
        out[it.name.text] = (tuple(cond), tuple(every))
    return out


def dependency_lines(policy: A.Policy) -> str:
    return ('\n# Inputs each item depends on: (in its conditions, in all).\n'
            f"META['item_inputs'] = {item_inputs(policy)!r}\n")
