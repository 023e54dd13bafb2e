"""Stand-alone modules: the generated code with polc's runtime embedded, standard library only."""
from __future__ import annotations

from pathlib import Path

from polc.compiler.python.codegen import generate

_UNITS_IMPORT = 'from polc.dsl.units import format_money, format_number, format_percent\n'


def runtime_source() -> str:
    """The runtime (with the unit formatting it uses) as one self-contained source text."""
    here = Path(__file__).resolve().parent
    units = (here.parent.parent / 'dsl' / 'units.py')
    if not units.exists():                         # installed layout: polc/dsl next to polc/compiler
        import polc.dsl.units as u
        units = Path(u.__file__)
    runtime = (here / 'runtime.py').read_text(encoding='utf-8')
    if _UNITS_IMPORT not in runtime:
        raise RuntimeError('runtime.py no longer imports units as expected')
    future = 'from __future__ import annotations\n'
    records = (here / 'runtime_records.py').read_text(encoding='utf-8')
    start = records.index('from polc.compiler.python.runtime import')
    end = records.index(')\n', start) + 2
    records = records[:start] + records[end:]
    body = units.read_text(encoding='utf-8') + '\n\n' + runtime.replace(_UNITS_IMPORT, '') + '\n\n' + \
        records.replace("__all__ = ['evaluate_records', 'split_record_facts', 'LABEL_KEY']", '')
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
