"""Terminal output: diagnostics coloured only on a terminal (never with NO_COLOR, never in a
pipe: the golden files stay plain), and a long source line shown as a window around the caret so
the caret stays under its place."""
import io

import pytest
from click.testing import CliRunner

from polc.compiler.cli import cli
from polc.compiler.cli.common import colour_for
from polc.dsl.ast import Span
from polc.dsl.diagnostics import Diagnostic, render, window
from polc.dsl.text import display_width


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _diag(line, col, end_col, severity='error'):
    return Diagnostic(severity, 'E-TEST', '测试', Span(line, col, line, end_col), 'x.pol', hint='改一改')


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv('NO_COLOR', raising=False)
    assert colour_for(io.StringIO()) == (False, None)
    on, width = colour_for(Terminal())
    assert on is True and width >= 20
    monkeypatch.setenv('NO_COLOR', '1')
    assert colour_for(Terminal())[0] is False
    src = '项 甲\n  金额：乙 × 30%\n'
    d = _diag(2, 6, 7)
    plain = render(d, src)
    painted = render(d, src, color=True)
    assert '\x1b[' not in plain and '\x1b[1;31m错误[E-TEST]\x1b[0m' in painted and '\x1b[1;31m^^\x1b[0m' in painted
    import re
    assert re.sub(r'\x1b\[[0-9;]*m', '', painted) == plain          # the same text, only painted
    assert '\x1b[1;33m警告' in render(_diag(2, 6, 7, 'warning'), src, color=True)


def test_the_check_command_is_plain_in_a_pipe(tmp_path):
    (tmp_path / 'bad.pol').write_text('政策 "x"\n条款 一 "t"\n  项 甲：补助\n    金额：未定义的数 × 30%\n',
                                      encoding='utf-8')
    r = CliRunner().invoke(cli, ['check', str(tmp_path / 'bad.pol')])
    assert r.exit_code != 0 and '\x1b[' not in r.output and '^' in r.output


@pytest.mark.parametrize('col', [1, 40, 200, 395])
def test_a_long_line_is_a_window_with_the_caret_under_its_place(col):
    # a 原文 line of 400 Chinese characters (800 columns) with the place at character ``col``
    text = ''.join(chr(0x4e00 + (i % 500)) for i in range(400))
    d = _diag(1, col, col + 3)
    out = render(d, text, width=80).split('\n')
    line, caret = out[1], out[2]
    assert display_width(line) <= 80 and display_width(caret) <= 80
    shown = line[len('    1 | '):]
    under = caret[len('      | '):]
    start = len(under) - len(under.lstrip(' '))
    # the three characters above the carets are the ones the span covers
    columns, i = 0, 0
    while columns < start:
        columns += display_width(shown[i])
        i += 1
    assert columns == start and shown[i:i + 3] == text[col - 1:col + 2]
    assert under.strip() == '^' * 6
    assert (col > 30) == shown.startswith('...') and shown.endswith('...') == (col < 380)
    assert render(d, text) .split('\n')[1] == '    1 | ' + text          # without a width: the whole line


def test_a_short_line_is_unchanged_by_the_window():
    text = '金额：乙 × 30%'
    assert window(text, 3, 4, 80) == (text, display_width(text[:3]), 2)
    assert render(_diag(1, 4, 5), text, width=80) == render(_diag(1, 4, 5), text)


def test_verify_reports_its_progress_per_guarantee():
    from pathlib import Path
    import polc
    from polc.compiler.analysis.verify import guarantees_of, verify
    compiled = polc.load(Path(__file__).resolve().parent / 'data' / 'sample.pol')
    seen = []
    report = verify(compiled, examples=20, use_solver=False, progress=lambda done, total: seen.append((done, total)))
    n = len(list(guarantees_of(compiled)))
    assert n > 0 and seen == [(k, n) for k in range(1, n + 1)] and len(report.outcomes) == n


def test_eval_results_are_painted_only_as_styling():
    import re
    from pathlib import Path
    import polc
    from polc.compiler.cli.evaluate import paint_result
    from polc.compiler.python.explain import render_text
    compiled = polc.load(Path(__file__).resolve().parent / 'data' / 'sample.pol')
    r = compiled.evaluate({'企业类别': '新上规模', '年销售额': '3500万元'}, date='2025-06-01')
    text = render_text(r)
    painted = paint_result(text)
    assert re.sub(r'\x1b\[[0-9;]*m', '', painted) == text
    assert '\x1b[32m  · （五）爆款奖励【奖补】：150万元\x1b[0m' in painted       # green: what the applicant gets
    assert '\x1b[1m可获得\x1b[0m' in painted and '\x1b[2m不适用' in painted


def test_the_applicant_view_with_values_and_no_doubled_words(tmp_path):
    # sample.pol, 丁 of tests/test_report.py: 营业收入 1.2亿, 上年 1亿, 已获晋级奖励 80万 → 晋级 1亿档
    # 150万 − 80万 = 70万; 增长 增速 (1.2亿 − 1亿) ÷ 1亿 = 20% ≥ 10% → 2000万 × 3% = 60万; total 130万
    import json
    from polc.compiler.cli import cli as polc_cli
    facts = tmp_path / 'f.json'
    facts.write_text(json.dumps({'营业收入': '1.2亿元', '上年营业收入': '1亿元', '已获晋级奖励': '80万元'}),
                     encoding='utf-8')
    from pathlib import Path
    pol = str(Path(__file__).resolve().parent / 'data' / 'sample.pol')
    r = CliRunner().invoke(polc_cli, ['eval', pol, '--facts', str(facts), '--date', '2025-06-01'])
    assert r.exit_code == 0, r.output
    out = r.output
    head, rest = out.split('\n计算过程\n', 1)
    assert '可获得\n  · （六）晋级奖励【奖励】：70万元\n  · 7. 增长奖励【奖补】：60万元\n  应得合计：130万元' in head
    assert '晋级补差：150万元 − 已获晋级奖励 80万元 = 70万元' in rest and '已获 已获' not in out
    # a met condition's values: each comparison of the 且 with its operator
    assert '满足条件「营业收入 达到 1亿元 且 上年营业收入 > 0元 且 增速 ≥ 10%」：1.2亿元 ≥ 1亿元，1亿元 > 0元，20% ≥ 10%' in rest
    assert out.rstrip().splitlines()[-1].startswith('不适用（') and '新增企业奖励' in out.rstrip().splitlines()[-1]
    # 成交额 not given: 运营奖励 reads it as 未填 under --all (its default 0元 is used)
    r = CliRunner().invoke(polc_cli, ['eval', pol, '--facts', str(facts), '--date', '2025-06-01', '--all'])
    assert '成交额 未填（按 0元 计） × 10% = 0元' in r.output and '\n合计\n' in r.output
