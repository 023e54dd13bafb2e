"""pytest plugin: every .pol file under the test paths is collected, each 案例 a test item.

Registered through the ``pytest11`` entry point, so ``pytest`` alone runs the cases
of the policies it finds.  A policy with errors is reported as one failing item
showing its diagnostics.
"""
from __future__ import annotations

import pytest


def pytest_collect_file(parent, file_path):
    if file_path.suffix == '.pol':
        return PolFile.from_parent(parent, path=file_path)
    return None


class PolFile(pytest.File):
    def collect(self):
        from polc.compiler.python.loader import PolcError, load
        try:
            compiled = load(self.path)
        except PolcError as exc:
            yield PolErrorItem.from_parent(self, name='政策检查', error=exc)
            return
        for case in compiled.policy.cases:
            yield PolCaseItem.from_parent(self, name=case.title, compiled=compiled, case=case)


class PolCaseFailure(Exception):
    pass


class PolCaseItem(pytest.Item):
    def __init__(self, *, compiled, case, **kwargs):
        super().__init__(**kwargs)
        self.compiled = compiled
        self.case = case

    def runtest(self):
        from polc.compiler.analysis.cases import run_case
        result = run_case(self.compiled, self.case)
        if not result.passed:
            raise PolCaseFailure('\n'.join(result.failures))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, PolCaseFailure):
            return f'案例「{self.case.title}」失败：\n{excinfo.value}'
        return super().repr_failure(excinfo)

    def reportinfo(self):
        line = self.case.span.line - 1 if self.case.span else 0
        return self.path, line, f'案例 {self.case.title}'


class PolErrorItem(pytest.Item):
    def __init__(self, *, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self):
        raise PolCaseFailure(str(self.error))

    def repr_failure(self, excinfo):
        return f'政策文件有错误：\n{excinfo.value}'

    def reportinfo(self):
        return self.path, 0, '政策检查'
