"""Conditions in explanations show their values: a comparison as 「：21.5% ≥ 12%」 (held) or with
the operator negated 「：8% < 12%」 (not held); 且 of comparisons each (held) or the first that fails;
other conditions (属于, 是) keep the listing 「（主体类型 高校）」.  The compiled policy and the
reference interpreter write the same text."""
from __future__ import annotations

from pathlib import Path

import pytest

import polc
from polc.compiler.analysis.interpreter import Interpreter

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / 'tests' / 'data' / 'sample.pol'

POLICY = '''政策：条件的数值
施行日期：2024-01-01

输入 营业收入增速：百分比 "" 默认 0%
输入 行业平均增速：百分比 "" 默认 0%
输入 参与企业数：整数 "" 默认 0
输入 主体类型：枚举（企业、高校） "" 默认 企业

条款 一、增速
  项 增速奖励
    条件：营业收入增速 不低于 行业平均增速
    金额：10万元

条款 二、活动
  项 活动补助
    条件：参与企业数 在 20 以上
    金额：5万元
  项 区间补助
    条件：参与企业数 在 10（含） 至 30（不含）
    金额：1万元

条款 三、主体
  项 主体奖励
    条件：主体类型 属于（企业、高校）
    金额：2万元
'''


def _both(pol, facts, date='2025-06-01'):
    """{item: (steps, reason)} from the compiled policy and from the interpreter (must agree)."""
    compiled = polc.load(pol)
    interp = Interpreter(compiled.analysis.checked, compiled.analysis.source)
    a, b = compiled.evaluate(facts, date=date), interp.evaluate(facts, date=date)
    view = [{i.name: (i.steps, i.detail) for i in r.items} for r in (a, b)]
    assert view[0] == view[1]
    return view[0]


@pytest.fixture
def policy(tmp_path):
    p = tmp_path / 'values.pol'
    p.write_text(POLICY, encoding='utf-8')
    return p


def test_a_met_comparison_shows_both_values_and_the_operator(policy):
    got = _both(policy, {'营业收入增速': '21.5%', '行业平均增速': '12%', '参与企业数': 25, '主体类型': '高校'})
    assert got['增速奖励'][0][0] == '满足条件「营业收入增速 不低于 行业平均增速」：21.5% ≥ 12%'
    assert got['活动补助'][0][0] == '满足条件「参与企业数 在 20 以上」：25 ≥ 20'
    # a range with both bounds: 10 ≤ 25 < 30
    assert got['区间补助'][0][0] == '满足条件「参与企业数 在 10（含） 至 30（不含）」：10 ≤ 25 < 30'
    # not a comparison: the values read, as before
    assert got['主体奖励'][0][0] == '满足条件「主体类型 属于（企业、高校）」（主体类型 高校）'


def test_an_unmet_comparison_shows_the_negated_operator(policy):
    got = _both(policy, {'营业收入增速': '8%', '行业平均增速': '12%', '参与企业数': 30})
    assert got['增速奖励'][1] == '不满足条件「营业收入增速 不低于 行业平均增速」：8% < 12%'
    # 30 misses the upper bound (不含): 30 ≥ 30; the lower one holds
    assert got['区间补助'][1] == '不满足条件「参与企业数 在 10（含） 至 30（不含）」：30 ≥ 30'
    got = _both(policy, {'营业收入增速': '8%', '行业平均增速': '12%', '参与企业数': 19})
    assert got['活动补助'][1] == '不满足条件「参与企业数 在 20 以上」：19 < 20'
    assert got['区间补助'][0][0] == '满足条件「参与企业数 在 10（含） 至 30（不含）」：10 ≤ 19 < 30'


def test_an_unfilled_input_is_named_after_the_comparison(policy):
    # 参与企业数 not given: its default 0 is compared, and the note says so
    got = _both(policy, {'营业收入增速': '8%', '行业平均增速': '12%'})
    assert got['活动补助'][1] == '不满足条件「参与企业数 在 20 以上」：0 < 20（参与企业数 未填，按 0 计）'


def test_a_conjunction_of_comparisons(tmp_path):
    # sample.pol 增长奖励: 营业收入 达到 1亿元 且 上年营业收入 > 0元 且 增速 ≥ 10% (增速 = 增量 ÷ 上年营业收入)
    met = _both(SAMPLE, {'营业收入': '1.2亿元', '上年营业收入': '1亿元'})
    assert met['增长奖励'][0][0] == ('满足条件「营业收入 达到 1亿元 且 上年营业收入 > 0元 且 增速 ≥ 10%」：'
                                  '1.2亿元 ≥ 1亿元，1亿元 > 0元，20% ≥ 10%')
    # 1.05亿 over 1亿: 5% growth, the first part that fails is the third
    unmet = _both(SAMPLE, {'营业收入': '1.05亿元', '上年营业收入': '1亿元'})
    assert unmet['增长奖励'][1] == ('不满足条件「营业收入 达到 1亿元 且 上年营业收入 > 0元 且 增速 ≥ 10%」：'
                                   '5% < 10%')
    # 上年营业收入 not given: the second part fails (0元 ≤ 0元) and 增速 (÷ 0) is never computed
    first = _both(SAMPLE, {'营业收入': '1.2亿元'})
    assert first['增长奖励'][1] == ('不满足条件「营业收入 达到 1亿元 且 上年营业收入 > 0元 且 增速 ≥ 10%」：'
                                   '0元 ≤ 0元（上年营业收入 未填，按 0元 计）')
    # 是否 is not a comparison: the listing stays
    assert first['落户算力券'][1] == '不满足条件「落户」（落户 未填（按 否 计））'


def test_the_stand_alone_module_writes_the_same_text(policy, tmp_path):
    from click.testing import CliRunner
    from polc.compiler.cli import cli
    out = tmp_path / 'values_module.py'
    r = CliRunner().invoke(cli, ['build', str(policy), '-o', str(out)])
    assert r.exit_code == 0, r.output
    import importlib.util
    spec = importlib.util.spec_from_file_location('values_module', out)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.evaluate({'营业收入增速': '8%', '行业平均增速': '12%'}, date='2025-06-01')
    reasons = {i['name']: i for i in res['items']} if isinstance(res, dict) else None
    assert reasons is not None
    assert '：8% < 12%' in str(reasons['增速奖励'])


def test_a_long_chain_of_comparisons_lists_the_values_read(tmp_path):
    # 17 comparisons joined by 且 (more than COMPARED_PARTS): the listing form, as before — and a
    # chain of thousands still compiles (tests/test_robustness.py)
    text = ('政策：长链\n施行日期：2024-01-01\n输入 甲：金额 "" 默认 0元\n条款 一、甲\n  项 乙\n    条件：'
            + ' 且 '.join(['甲 > 0元'] * 17) + '\n    金额：1万元\n')
    pol = tmp_path / 'chain.pol'
    pol.write_text(text, encoding='utf-8')
    got = _both(pol, {'甲': '5万元'})
    assert got['乙'][0][0] == '满足条件「' + ' 且 '.join(['甲 > 0元'] * 17) + '」（甲 5万元）'
    short = tmp_path / 'short.pol'
    short.write_text(text.replace(' 且 '.join(['甲 > 0元'] * 17), ' 且 '.join(['甲 > 0元'] * 16)), encoding='utf-8')
    assert _both(short, {'甲': '5万元'})['乙'][0][0].endswith('」：' + '，'.join(['5万元 > 0元'] * 16))
