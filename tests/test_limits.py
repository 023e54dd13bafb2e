"""Dates and constants every back end can represent: `polc check` refuses a header whose validity
runs past 9999-12-31 and a step rule whose amounts cannot be held; whatever check passes, eval
(with its explanation), sql and verify run without an internal error (a property over mutated
headers and absurd constants)."""
import datetime as dt
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polc
from polc.compiler.analysis.verify import verify
from polc.compiler.cli import cli
from polc.compiler.python.explain import render_text
from polc.compiler.sql.generate import SqlUnsupported, policy_sql
from polc.dsl.analysis import analyze

TEMPLATE = '''政策：测试
{start_key}：{start}
有效期：{years}年
输入 营业收入：金额 "年营业收入" 默认 0元
条款 （一） 甲
  项 乙
    金额：营业收入 {per} {step} 给予 {award}
'''


def _text(start_key='施行日期', start='2024-01-01', years=3, per='每满', step='1000万元', award='50万元'):
    return TEMPLATE.format(start_key=start_key, start=start, years=years, per=per, step=step, award=award)


def _codes(text):
    return [d.code for d in analyze(text, 'p.pol').diagnostics if d.severity == 'error']


@pytest.mark.parametrize('start, years, refused', [
    ('9999-06-01', 3, True), ('2024-06-01', 8000, True), ('2024-06-01', 7975, False),
    ('2024-06-01', 7976, True), ('9999-01-01', 1, True), ('9998-02-28', 1, False),
])
def test_validity_past_9999_is_refused(start, years, refused):
    # 2024 + 7975 = 9999: the last day is 9999-05-31; 2024 + 7976 = 10000 cannot be written
    assert ('E-DATE-RANGE' in _codes(_text(start=start, years=years))) is refused


@pytest.mark.parametrize('step, award, refused', [
    ('0.01元', '99999999999亿元', True),     # 10^22 steps × ~10^19 元 = 10^41 元
    ('1元', '10000000000000000元', True),    # 10^20 × 10^16 = 10^36: not below 10^36
    ('1元', '9999999999999999元', False),    # just below
    ('1000万元', '50万元', False),
])
def test_step_rules_that_cannot_be_held_are_refused(step, award, refused):
    assert ('E-CONST-RANGE' in _codes(_text(step=step, award=award))) is refused


def test_money_constant_over_the_facts_bound_is_refused():
    assert 'E-CONST-RANGE' in _codes(_text(award='1' + '0' * 33 + '亿元 + 1元'))   # 10^41 元
    assert 'E-CONST-RANGE' not in _codes(_text(award='1' + '0' * 32 + '亿元 + 1元'))   # 10^40 元


def test_the_reproductions_now_stop_at_check(tmp_path):
    for text in (_text(start='9999-06-01'), _text(years=8000), _text(step='0.01元', award='99999999999亿元')):
        p = tmp_path / 'p.pol'
        p.write_text(text, encoding='utf-8')
        r = CliRunner().invoke(cli, ['check', str(p)])
        assert r.exit_code == 1 and '错误[E-' in r.output and '内部错误' not in r.output


@st.composite
def headers(draw):
    year = draw(st.one_of(st.integers(1900, 2100), st.integers(9000, 9999), st.integers(1, 9999)))
    start = dt.date(year, draw(st.integers(1, 12)), draw(st.integers(1, 28)))
    if draw(st.booleans()):
        start = dt.date(year, 2, 29) if year % 4 == 0 and (year % 100 or year % 400 == 0) else start
    years = draw(st.one_of(st.integers(1, 10), st.integers(1, 10000)))
    step = draw(st.sampled_from(['0.01元', '1元', '1000万元', '99999999999亿元', '1000亿元']))
    award = draw(st.sampled_from(['0.01元', '50万元', '99999999999亿元', '10000000000000亿元', '1元']))
    return _text(start_key=draw(st.sampled_from(['施行日期', '印发日期'])), start=start.isoformat(),
                 years=years, per=draw(st.sampled_from(['每满', '每'])), step=step, award=award)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers(), st.sampled_from(['0', '1', '123456.78', '100000000000000000000']),
       st.sampled_from(['0001-01-01', '2025-06-01', '9999-12-31']))
def test_what_check_passes_runs_everywhere(text, income, date):
    if _codes(text):
        return
    compiled = polc.loads(text, 'p.pol')
    result = compiled.evaluate({'营业收入': income}, date=date)
    assert result.items[0].outcome in ('amount', 'not_applicable')
    render_text(result)
    try:
        policy_sql(compiled.analysis.checked, dt.date.fromisoformat(date))
    except SqlUnsupported as exc:       # a documented refusal (E-SQL), with its reason
        assert '无法精确编译为 SQL' in str(exc)


def test_verify_runs_on_the_largest_step_check_passes():
    compiled = polc.loads(_text(step='1元', award='9999999999999999元'), 'p.pol')
    report = verify(compiled, examples=30)
    assert report is not None


@pytest.mark.filterwarnings('ignore::hypothesis.errors.NonInteractiveExampleWarning')
def test_evaluation_dates_near_the_ends_of_the_calendar():
    import polc.testing
    text = _text(start='0001-01-01', years=9998)      # the last day: 9998-12-31
    assert not _codes(text)
    compiled = polc.loads(text, 'p.pol')
    for d in (dt.date(1, 1, 1), dt.date(9998, 12, 31), dt.date(9999, 12, 31)):
        r = compiled.evaluate({'营业收入': '100'}, date=d)
        assert r.valid is (d != dt.date(9999, 12, 31))
    assert compiled.meta['effective'] == dt.date(1, 1, 1)
    polc.testing.dates(compiled).example()          # near-bound dates stay inside the calendar


def test_an_amount_beyond_60_digits_is_a_message_not_a_crash(tmp_path):
    # 个数 ≤ 10^12 passes every check; (10^12)^4 × 10^18 元 = 10^66 元 exceeds the runtime's 60 digits
    text = _text().replace('输入 营业收入', '输入 个数：整数 "个数" 默认 0\n输入 营业收入').replace(
        '营业收入 每满 1000万元 给予 50万元', '个数 × 个数 × 个数 × 个数 × 1000000000000000000元')
    compiled = polc.loads(text, 'p.pol')
    with pytest.raises(polc.FactsError, match='超出可精确计算的范围'):
        compiled.evaluate({'个数': 10 ** 12}, date='2025-01-01')
    # 10^12 × 10^18 = 10^30 元: beyond the default 28 digits, exact in the batch engine too
    assert compiled.evaluate({'个数': 1000}, date='2025-01-01').total == Decimal(10) ** 30
    from polc.compiler.tables.rowwise import run_batch
    src = tmp_path / 'in.csv'
    src.write_text('个数\n1000\n1000000000000\n', encoding='utf-8')
    summary = run_batch(compiled, str(src), str(tmp_path / 'out.csv'), '2025-01-01', skip_bad=True,
                        rejects_path=str(tmp_path / 'rej.jsonl'))
    assert summary.total == Decimal(10) ** 30 and summary.rejected == 1
    assert '超出可精确计算的范围' in (tmp_path / 'rej.jsonl').read_text(encoding='utf-8')
