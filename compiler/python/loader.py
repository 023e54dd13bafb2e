"""From source text to a compiled, callable policy (cached by content)."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Optional

import attrs

from polc.dsl.analysis import Analysis, analyze, read_source, with_deep_stack
from polc.dsl.diagnostics import Diagnostic, render

from polc.compiler.python import runtime as runtime
from polc.compiler.python.codegen import generate
from polc.compiler.python.names import alias_lines
from polc.dsl.script import fold as _fold

runtime.set_fold(_fold)     # polc's runtime folds any mix of simplified and traditional spellings
from polc.compiler.python.results import EvalResult, document_of, from_runtime

_FAST_AFTER = 2         # the fast path is compiled on a policy's second evaluation


class PolcError(Exception):
    """A policy with errors.  ``diagnostics`` holds every problem found; ``source`` the text."""

    def __init__(self, diagnostics, source: Optional[str] = None):
        self.diagnostics = tuple(diagnostics)
        self.source = source
        super().__init__('\n'.join(render(d, source) for d in self.diagnostics
                                   if d.severity == 'error') or 'policy has errors')


FactsError = runtime.FactsError


@attrs.define(eq=False)
class CompiledPolicy:
    analysis: Analysis
    python_source: str
    namespace: dict
    _calls: int = attrs.field(default=0, init=False, repr=False)
    _fast: object = attrs.field(default=None, init=False, repr=False)   # evaluate_json once built, () if none

    @property
    def policy(self):
        return self.analysis.policy

    @property
    def name(self) -> str:
        return self.namespace['META'].get('name', '')

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.analysis.diagnostics

    @property
    def inputs(self) -> dict:
        """name -> (kind, enum values, default, description)."""
        return self.namespace['INPUTS']

    @property
    def records(self) -> dict:
        """record kind -> (description, names of its inputs); empty when the policy declares none."""
        return self.namespace.get('RECORDS', {})

    @property
    def meta(self) -> dict:
        return self.namespace['META']

    def evaluate_raw(self, facts: dict, date=None, explain: bool = True) -> dict:
        """The runtime's plain-dict result (fastest; used by batch paths)."""
        return self.namespace['evaluate'](facts, date, explain)

    @property
    def evaluate_typed(self):
        """The fast path: ``evaluate_typed(values, date)`` with typed facts (every input, Decimal
        money, a ``datetime.date``) -> ({item: (outcome, value)}, total).  No checks, no
        explanation.  Compiled on first use.  Call it inside ``decimal.localcontext(runtime.CONTEXT)``
        (the batch engine does, once per run): it does not set the exact context itself."""
        fn = self.namespace.get('evaluate_typed')
        if fn is None:
            from polc.compiler.python.codegen import generate_typed
            src = generate_typed(self.analysis.checked, self.analysis.source)
            exec(compile(src, f'<polc-typed:{self.analysis.file}>', 'exec'), self.namespace)
            fn = self.namespace['evaluate_typed']
        return fn

    def evaluate(self, facts: dict, date=None, explain: bool = True, strict: bool = False) -> EvalResult:
        """Evaluate one applicant.  Raises :class:`FactsError` for bad facts.  ``strict``: an item
        whose conditions rest on a fact the applicant did not give (taken at its default) is not
        computed; its outcome is ``missing_facts`` (缺少事实), naming the facts."""
        fast = self._fast
        if fast:
            if not strict and type(facts) is dict:
                try:            # a LightResult, or None when these facts need the full path
                    result = fast(facts, date, self, explain)
                except (ValueError, ArithmeticError):   # the full path reports it, in its own words
                    result = None
                if result is not None:
                    return result
        elif fast is None and self._calls < _FAST_AFTER:
            self._calls += 1
            if self._calls == _FAST_AFTER and self._build_fast():
                return self.evaluate(facts, date, explain, strict)
        return self.evaluate_full(facts, date, explain, strict)

    def _build_fast(self):
        """The fast path of :meth:`evaluate` (``evaluate_json``: generated coercion of the declared
        inputs, then the typed path), compiled on the second evaluation so that a one-off
        ``polc eval`` does not pay for it; none for policies with records (lists of projects take
        the full path)."""
        ns = self.namespace
        if ns.get('RECORDS'):
            self._fast = ()
        else:
            from polc.compiler.python.codegen import generate_typed
            try:
                src = with_deep_stack(generate_typed, self.analysis.checked, self.analysis.source, True)
                exec(compile(src, f'<polc-json:{self.analysis.file}>', 'exec'), ns)
                self._fast = ns['evaluate_json']
            except (RecursionError, MemoryError, SyntaxError):    # nested too deeply: the full path
                self._fast = ()
        return self._fast

    def evaluate_full(self, facts: dict, date=None, explain: bool = True, strict: bool = False) -> EvalResult:
        """:meth:`evaluate` on the full path alone: the whole result built at once."""
        raw = self.namespace['evaluate'](facts, date, explain, strict)
        return from_runtime(raw, self.namespace['ITEMS'], self.namespace['POLICY_READINGS'], self.script)

    def evaluate_document(self, facts: dict, date=None, explain: bool = True) -> dict:
        """``evaluate_full(facts, date, explain).to_dict()`` (the `polc eval --format json` document),
        made straight from the runtime's result without the result objects (``polc serve``)."""
        ns = self.namespace
        raw = ns['evaluate'](facts, date, explain, False)
        return document_of(raw, ns['ITEMS'], ns['POLICY_READINGS'], self.script)

    @property
    def script(self):
        """The output script (简/繁) of this policy: :class:`polc.compiler.python.names.Script`."""
        s = self.namespace.get('_polc_script')
        if s is None:
            from polc.compiler.python.names import Script
            s = self.namespace['_polc_script'] = Script(self.analysis.policy, self.analysis.source)
        return s


_CACHE: 'OrderedDict[tuple, CompiledPolicy]' = OrderedDict()
_CACHE_SIZE = 64


def compile_analysis(analysis: Analysis) -> CompiledPolicy:
    if not analysis.ok:
        raise PolcError([d for d in analysis.diagnostics], analysis.source)
    try:
        source, code = with_deep_stack(_generate_and_compile, analysis)
    except (RecursionError, MemoryError, SyntaxError) as exc:
        from polc.dsl.diagnostics import error
        raise PolcError([error('E-TOO-DEEP', f'表达式嵌套过深，无法编译（{type(exc).__name__}）', None)
                         .with_file(analysis.file)], analysis.source) from None
    namespace: dict = {'__name__': f'polc_generated'}
    exec(code, namespace)
    return CompiledPolicy(analysis, source, namespace)


def _generate_and_compile(analysis: Analysis):
    source = generate(analysis.checked, analysis.source, typed=False) + alias_lines(analysis.policy)
    return source, compile(source, f'<polc:{analysis.file}>', 'exec')


def loads(text: str, file: str = '<输入>') -> CompiledPolicy:
    """Compile policy text.  Raises :class:`PolcError` carrying the diagnostics on errors."""
    key = (file, hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest())
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    compiled = compile_analysis(analyze(text, file))
    _CACHE[key] = compiled
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def load(path) -> CompiledPolicy:
    """Read and compile a .pol file.  Raises :class:`PolcError` (also for unreadable files)."""
    from polc.dsl.analysis import SourceError
    from polc.dsl.diagnostics import error
    try:
        text = read_source(path)
    except SourceError as exc:
        raise PolcError([error('E-IO', exc.message, None).with_file(exc.file)]) from None
    return loads(text, str(path))
