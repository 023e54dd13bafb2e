"""polc: a compiler for a Chinese-keyword subsidy-policy language.

    >>> import polc
    >>> policy = polc.load('policies/xiamen.pol')
    >>> result = policy.evaluate({'年度營業收入': '5亿元', '算力服務費用': '100万元'}, date='2025-06-01')
    >>> result.ceiling_total

Errors in a policy raise :class:`PolcError` (with ``.diagnostics``); bad facts
raise :class:`FactsError` (with ``.problems``, each naming its fact).
Names are imported on first use, so ``polc check`` starts fast.
"""
__version__ = '0.1.0'

_EXPORTS = {
    'load': 'polc.compiler.python.loader', 'loads': 'polc.compiler.python.loader',
    'CompiledPolicy': 'polc.compiler.python.loader', 'PolcError': 'polc.compiler.python.loader',
    'FactsError': 'polc.compiler.python.loader', 'EvalResult': 'polc.compiler.python.results',
    'ItemResult': 'polc.compiler.python.results', 'GroupResult': 'polc.compiler.python.results',
    'analyze': 'polc.dsl.analysis', 'Diagnostic': 'polc.dsl.diagnostics',
    'evaluate_table': 'polc.compiler.engines', 'BatchError': 'polc.compiler.tables.io',
    'BatchSummary': 'polc.compiler.tables.io', 'policy_sql': 'polc.compiler.sql.generate',
}

__all__ = sorted(_EXPORTS) + ['__version__']


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
