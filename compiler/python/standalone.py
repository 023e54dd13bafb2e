"""Stand-alone modules: the generated code with polc's runtime embedded, standard library only."""
from __future__ import annotations

from pathlib import Path

from polc.compiler.python.codegen import generate

# the dsl modules the runtime imports (standard library only): their text is embedded in place
# (names defined at the top level of these modules must not clash with the runtime's)
_EMBEDDED = ('units', 'money')


def _dsl_source(name: str) -> str:
    import importlib
    return Path(importlib.import_module(f'polc.dsl.{name}').__file__).read_text(encoding='utf-8')


def runtime_source() -> str:
    """The runtime (with the dsl modules it uses) as one self-contained source text."""
    here = Path(__file__).resolve().parent
    runtime = (here / 'runtime.py').read_text(encoding='utf-8')
    parts = []
    for name in _EMBEDDED:
        start = runtime.find(f'from polc.dsl.{name} import ')
        if start < 0:
            raise RuntimeError(f'runtime.py no longer imports polc.dsl.{name} as expected')
        end = runtime.index('\n', start) + 1
        runtime = runtime[:start] + runtime[end:]
        parts.append(_dsl_source(name))
    future = 'from __future__ import annotations\n'
    body = '\n\n'.join(parts) + '\n\n' + runtime
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
