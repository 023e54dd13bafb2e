"""The layout shows the stages: no module over 600 lines, no import cycle between modules or
between the stage folders, dsl never imports compiler, compiler/ keeps at most four loose
modules, and every package is listed for installation."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# folder -> the package it is installed as
PACKAGES = {'api': 'polc', 'dsl': 'polc.dsl', 'compiler': 'polc.compiler', 'grammar': 'polc.grammar'}
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for folder, pkg in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob('*.py')):
            rel = path.relative_to(ROOT / folder).with_suffix('')
            parts = [p for p in rel.parts if p != '__init__']
            out['.'.join([pkg] + parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every polc module ``name`` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding='utf-8'))
    is_pkg = path.name == '__init__.py'
    out = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = name.split('.') if is_pkg else name.split('.')[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = '.'.join(anchor + ([base] if base else []))
            targets = [base] + [f'{base}.{a.name}' for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition('.')[0]
            if t and t != name:
                out.add(t)
    return out


def _graph():
    mods = _modules()
    known = set(mods)
    return {m: _imports(m, p, known) for m, p in mods.items()}


def _cycle(graph: dict[str, set[str]]):
    """One cycle of the graph as a list of nodes, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def _without_package_inits(graph):
    """A package's ``__init__`` may re-export its own modules; an import of a module loads its
    package first, which is not an edge of its own."""
    return {m: {t for t in ts if not m.startswith(t + '.')} for m, ts in graph.items()}


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules().values()
            if (n := len(p.read_text(encoding='utf-8').splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_cycle_between_modules():
    assert _cycle(_without_package_inits(_graph())) is None


def test_stage_folders_import_one_way():
    """compiler's subpackages (and loose modules) form a DAG."""
    def stage(m):
        parts = m.split('.')
        if parts[:2] != ['polc', 'compiler'] or len(parts) < 3:
            return None
        return '.'.join(parts[:3])
    stages: dict[str, set[str]] = {}
    for m, targets in _without_package_inits(_graph()).items():
        s = stage(m)
        if s is None:
            continue
        stages.setdefault(s, set())
        stages[s].update(t for t in (stage(x) for x in targets) if t and t != s)
    assert _cycle(stages) is None


def test_dsl_never_imports_compiler():
    bad = {m: sorted(t for t in ts if t.startswith('polc.compiler'))
           for m, ts in _graph().items() if m.startswith('polc.dsl')}
    assert {m: ts for m, ts in bad.items() if ts} == {}


def test_compiler_keeps_at_most_four_loose_modules():
    loose = [p.name for p in (ROOT / 'compiler').glob('*.py') if p.name != '__init__.py']
    assert len(loose) <= 4, loose


def test_every_package_is_listed_for_installation():
    text = (ROOT / 'pyproject.toml').read_text(encoding='utf-8')
    listed = set(re.findall(r'"(polc(?:\.\w+)*)"', text.split('packages = [', 1)[1].split(']', 1)[0]))
    on_disk = {name for name, path in _modules().items() if path.name == '__init__.py'}
    assert listed == on_disk


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert _cycle({'a': {'b'}, 'b': set()}) is None
