"""Other spellings of a policy's input names and enumeration values (simplified/traditional).

The tables are made here with OpenCC when a policy is compiled and appended to the generated
module, so that a stand-alone module (standard library only) finds ``年度营业收入`` for an input
declared as ``年度營業收入``.  polc's own runtime also folds any mixture of the two scripts
(:func:`polc.dsl.script.fold`, installed into the runtime by the loader).
"""
from __future__ import annotations

from polc.dsl import ast as A
from polc.dsl.script import alias_table

from polc.compiler.python.dependencies import dependency_lines


def input_aliases(policy: A.Policy) -> dict[str, str]:
    return alias_table([d.name.text for d in policy.inputs])


def value_aliases(policy: A.Policy) -> dict[str, dict[str, str]]:
    out = {}
    for d in policy.inputs:
        if d.type.kind == 'enum':
            table = alias_table([v.text for v in d.type.values])
            if table:
                out[d.name.text] = table
    return out


def alias_lines(policy: A.Policy) -> str:
    """Lines appended to a generated module: the alias tables, kept in ``META``."""
    return ('\n\n# Other spellings (simplified/traditional) of input names and enumeration values.\n'
            f"META['input_aliases'] = {input_aliases(policy)!r}\n"
            f"META['value_aliases'] = {value_aliases(policy)!r}\n" + dependency_lines(policy))


class Script:
    """The script (简/繁) of a policy's output: polc's own words follow the policy; the policy's
    own texts (names, 原文, 解读, conditions as written …) are kept exactly as written."""

    def __init__(self, policy: A.Policy, source: str):
        from polc.dsl.script import to_traditional, uses_traditional
        self.traditional = uses_traditional(source)
        self._protected: tuple[str, ...] = ()
        if self.traditional:
            texts = _policy_texts(policy, source)
            # only texts that conversion would change need protecting
            self._protected = tuple(sorted({t for t in texts if to_traditional(t) != t},
                                           key=len, reverse=True))

    def convert(self, text: str) -> str:
        from polc.dsl.script import to_policy_script
        if not self.traditional or not text:
            return text
        return to_policy_script(text, True, self._protected)


def _policy_texts(policy: A.Policy, source: str) -> set[str]:
    """Every string of the policy: names, texts, and the source text of every expression."""
    import attrs
    out: set[str] = set()
    for node in A.walk(policy):
        for f in attrs.fields(type(node)):
            if f.name == 'span':
                continue
            v = getattr(node, f.name)
            if isinstance(v, str):
                out.add(v)
            elif isinstance(v, tuple):
                out.update(x for x in v if isinstance(x, str))
        span = getattr(node, 'span', None)
        if span is not None and span.end > span.start and not isinstance(node, A.Policy) \
                and span.end - span.start < 2000:
            out.add(source[span.start:span.end])
    for f in policy.header:
        if isinstance(f.value, str):
            out.add(f.value)
        elif isinstance(f.value, tuple):
            out.update(x for x in f.value if isinstance(x, str))
    from polc.dsl.keywords import SPELLING_TO_TYPE
    return {t for t in out if t.strip() and t not in SPELLING_TO_TYPE}   # 合计 as a target is polc's word
