"""polc: a compiler for a Chinese-keyword subsidy-policy language.

    >>> import polc
    >>> policy = polc.load('policies/zhangzhou.pol')
    >>> result = policy.evaluate({'年度算力服务费': '20万元'}, date='2025-03-01')
    >>> result.total

Errors in a policy raise :class:`PolcError` (with ``.diagnostics``); bad facts
raise :class:`FactsError` (with ``.problems``, each naming its fact).
"""
from polc.compiler.loader import CompiledPolicy, FactsError, PolcError, load, loads
from polc.compiler.results import EvalResult, GroupResult, ItemResult
from polc.dsl.analysis import analyze
from polc.dsl.diagnostics import Diagnostic

__version__ = '0.1.0'

__all__ = ['load', 'loads', 'analyze', 'CompiledPolicy', 'PolcError', 'FactsError', 'EvalResult',
           'ItemResult', 'GroupResult', 'Diagnostic', '__version__']
