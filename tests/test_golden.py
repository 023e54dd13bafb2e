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


def test_every_syntax_error_is_reported_then_the_semantic_ones(monkeypatch):
    """Issue 14 §3: recovery at the next statement; three syntax errors and the undefined name
    in a statement that parsed are all in one run."""
    monkeypatch.chdir(HERE)
    out = _run(HERE / 'syntax_recovery.pol')
    assert out.count('错误[E-SYNTAX]') == 3 and out.count('错误[E-UNDEFINED]') == 1
    for needed in ('syntax_glued_single', 'syntax_misspelt', 'syntax_case_title', 'syntax_kind_keyword'):
        assert (HERE / f'{needed}.expected').exists()
    assert '是否指「条件」' in _run(HERE / 'syntax_misspelt.pol')
    assert '「主体类型 是」' in _run(HERE / 'syntax_glued_single.pol')


def test_fmt_refuses_a_file_with_syntax_errors_even_after_recovery(tmp_path):
    """Recovery never lets fmt rewrite a file without the statements it could not parse."""
    src = (HERE / 'syntax_recovery.pol').read_text(encoding='utf-8')
    path = tmp_path / 'x.pol'
    path.write_text(src, encoding='utf-8')
    r = CliRunner().invoke(cli, ['fmt', '-w', str(path)])
    assert r.exit_code != 0
    assert path.read_text(encoding='utf-8') == src
