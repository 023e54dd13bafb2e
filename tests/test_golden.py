"""Golden tests: `polc check` on a file with one mistake prints exactly the .expected beside it.

Each .expected was read by hand: the message, the place, the caret under the right characters
(wide characters take two columns), the hint.  After a deliberate change of wording:
    POLC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py   (then review the diff)
"""
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from polc.compiler.cli import cli

HERE = Path(__file__).resolve().parent / 'golden' / 'diagnostics'
CASES = sorted(HERE.glob('*.pol'))


def _run(path: Path) -> str:
    r = CliRunner().invoke(cli, ['check', path.name], catch_exceptions=False)
    assert r.exit_code == 1, r.output
    return r.output


@pytest.mark.parametrize('path', CASES, ids=lambda p: p.stem)
def test_diagnostics_match_the_golden_file(path, monkeypatch):
    monkeypatch.chdir(HERE)
    out = _run(path)
    expected = path.with_suffix('.expected')
    if os.environ.get('POLC_UPDATE_GOLDEN') == '1':
        expected.write_text(out, encoding='utf-8')
    assert out == expected.read_text(encoding='utf-8')


def test_there_are_golden_files_for_the_main_checks():
    names = {p.stem for p in CASES}
    for needed in ('syntax_glued', 'undefined_suggest', 'money_times_money', 'money_vs_percent',
                   'tier_overlap', 'tier_unreachable', 'tier_gap', 'cap_below_fixed', 'rate_over_100',
                   'dates_order', 'duplicate_clause', 'case_unknown', 'three_mistakes'):
        assert needed in names
        assert (HERE / f'{needed}.expected').exists()


def test_all_mistakes_are_reported_in_one_run(monkeypatch):
    monkeypatch.chdir(HERE)
    out = _run(HERE / 'three_mistakes.pol')
    assert out.count('错误[') == 3 and '3 个错误' in out
