"""Stand-alone modules: the generated code with polc's runtime embedded, standard library only."""
from __future__ import annotations

import re
from pathlib import Path

from polc.compiler.python.codegen import generate

# the runtime's modules, in the order they are embedded: the dsl modules it uses (standard library
# only), then the runtime's own parts; imports between them are dropped (one namespace)
_EMBEDDED = ('polc.dsl.units', 'polc.dsl.money', 'polc.compiler.python.runtime_facts',
             'polc.compiler.python.runtime', 'polc.compiler.python.runtime_records')
_POLC_IMPORT = re.compile(r'^from polc\.[\w.]+ import (?:\([^)]*\)|[^\n]*)[^\n]*\n', re.M)


def _module_source(name: str) -> str:
    import importlib
    return Path(importlib.import_module(name).__file__).read_text(encoding='utf-8')


def runtime_source() -> str:
    """The runtime (with the dsl modules it uses) as one self-contained source text."""
    parts = []
    for name in _EMBEDDED:
        text = _module_source(name)
        if name != 'polc.compiler.python.runtime':      # one namespace: the runtime's export list only
            text = re.sub(r'^__all__ = \[[^\]]*\]\n', '', text, flags=re.M)
        parts.append(_POLC_IMPORT.sub('', text))
    future = 'from __future__ import annotations\n'
    body = '\n\n'.join(parts)
    if 'from polc.' in body or 'import polc' in body:
        raise RuntimeError('the embedded runtime still imports polc')
    return future + body.replace(future, '')


def standalone_import() -> str:
    """Lines that build the embedded runtime module ``_R`` inside the generated module."""
    src = runtime_source()
    return '\n'.join([
        'import sys as _sys',
        'import types as _types',
        '_RUNTIME_SOURCE = ' + repr(src),
        "_R = _types.ModuleType(__name__ + '._polc_runtime')",
        "_sys.modules[_R.__name__] = _R           # dataclass-free, but keep it importable by name",
        "exec(compile(_RUNTIME_SOURCE, '<polc runtime>', 'exec'), _R.__dict__)",
    ])


def generate_standalone(checked, source: str) -> str:
    from polc.compiler.python.names import alias_lines
    return generate(checked, source, runtime_import=standalone_import()) + alias_lines(checked.policy)
