"""Names declared in a policy: inputs, definitions, items, groups and enumeration values."""
from __future__ import annotations

import attrs

from . import ast as A


@attrs.define
class Symbols:
    inputs: dict[str, A.InputDecl]
    defines: dict[str, A.Define]
    items: dict[str, tuple[A.Clause, A.Item]]
    groups: dict[str, A.Group]
    enum_values: dict[str, set[str]]     # enum input name -> its values
    all_enum_values: set[str]

    def value_names(self) -> list[str]:
        return sorted(set(self.inputs) | set(self.defines))

    def target_names(self) -> list[str]:
        return sorted(set(self.items) | set(self.groups))


def symbols_of(policy: A.Policy) -> Symbols:
    """First declaration wins; duplicates are reported by the checks."""
    inputs: dict[str, A.InputDecl] = {}
    for d in policy.inputs:
        inputs.setdefault(d.name.text, d)
    defines: dict[str, A.Define] = {}
    for d in policy.defines:
        defines.setdefault(d.name.text, d)
    items: dict[str, tuple[A.Clause, A.Item]] = {}
    for c, it in policy.items():
        items.setdefault(it.name.text, (c, it))
    groups: dict[str, A.Group] = {}
    for g in policy.groups:
        groups.setdefault(g.name.text, g)
    enum_values = {name: {v.text for v in d.type.values}
                   for name, d in inputs.items() if d.type.kind == 'enum'}
    all_values = set().union(*enum_values.values()) if enum_values else set()
    return Symbols(inputs, defines, items, groups, enum_values, all_values)
