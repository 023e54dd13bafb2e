"""Results never rest silently on unfilled facts (issue 14 §4)."""
import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

import polc
from polc.compiler.cli import cli

GOLDEN = Path(__file__).resolve().parent / 'golden' / 'diagnostics'

# 漳州（六）as first encoded: growth and the industry average both default to 0%.
POLICY = '''政策：晋级补差测试
输入 营业收入增速：百分比 "上一年度营业收入增速" 默认 0%
输入 行业平均增速：百分比 "行业平均增速" 默认 0%
输入 年营业收入：金额 "上一年度营业收入" 默认 0元
输入 已获晋级奖励：金额 "以前年度已获" 默认 0元
条款 （六） 加大企业培育力度
  项 晋级补差奖励
    类别：奖励
    条件：营业收入增速 不低于 行业平均增速
    金额：晋级补差（年营业收入：3000万元：50万元，5000万元：80万元，8000万元：100万元，1亿元：150万元；已获 已获晋级奖励）
'''


def test_the_explanation_marks_every_unfilled_fact():
    p = polc.loads(POLICY, 'p.pol')
    r = p.evaluate({'年营业收入': '1.2亿元'}, '2025-01-01')
    it = r.item('晋级补差奖励')
    # 1.2亿 ≥ 1亿 → 150万 − 0 = 150万, but only because both growth rates default to 0%
    assert it.outcome == 'amount' and it.paid == 1500000
    assert it.unfilled == (('营业收入增速', '0%'), ('行业平均增速', '0%'), ('已获晋级奖励', '0元'))
    from polc.compiler.python.explain import render_text
    text = render_text(r)
    assert '「营业收入增速」（未填，按默认值 0% 计）' in text
    assert '「行业平均增速」（未填，按默认值 0% 计）' in text
    assert '年营业收入」（未填' not in text
    assert r.to_dict()['items'][0]['unfilled'][0] == {'name': '营业收入增速', 'default': '0%'}


def test_nothing_is_marked_when_every_fact_is_given():
    p = polc.loads(POLICY, 'p.pol')
    r = p.evaluate({'年营业收入': '1.2亿元', '营业收入增速': '12%', '行业平均增速': '10%',
                    '已获晋级奖励': '50万元'}, '2025-01-01')
    it = r.item('晋级补差奖励')
    assert it.unfilled == () and it.paid == 1000000          # 150万 − 50万


def test_strict_refuses_items_whose_conditions_rest_on_unfilled_facts():
    p = polc.loads(POLICY, 'p.pol')
    r = p.evaluate({'年营业收入': '1.2亿元'}, '2025-01-01', strict=True)
    it = r.item('晋级补差奖励')
    assert it.outcome == 'missing_facts' and it.outcome_label == '缺少事实'
    assert it.amount is None and it.paid == 0 and r.total == 0
    assert '「营业收入增速」、「行业平均增速」' in it.detail
    # the amount's own unfilled input (已获晋级奖励) does not make the item refused
    r = p.evaluate({'年营业收入': '1.2亿元', '营业收入增速': '12%', '行业平均增速': '10%'}, '2025-01-01',
                   strict=True)
    assert r.item('晋级补差奖励').paid == 1500000


def test_eval_strict_on_the_command_line(tmp_path):
    pol = tmp_path / 'p.pol'
    pol.write_text(POLICY, encoding='utf-8')
    facts = tmp_path / 'f.json'
    facts.write_text(json.dumps({'年营业收入': '1.2亿元'}), encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(facts), '--date', '2025-01-01', '--strict',
                                 '--format', 'json'])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out['items'][0]['outcome'] == 'missing_facts' and out['total'] == '0.00'
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(facts), '--date', '2025-01-01'])
    assert '结果：150万元' in r.output and '未填' in r.output


def test_check_warns_when_defaults_alone_meet_the_conditions(tmp_path):
    pol = tmp_path / 'p.pol'
    pol.write_text(POLICY, encoding='utf-8')
    r = CliRunner().invoke(cli, ['check', str(pol)])
    assert r.exit_code == 1 and 'W-DEFAULT-ELIGIBLE' in r.output and '晋级补差奖励' in r.output


def test_a_case_without_those_facts_confirms_the_defaults(tmp_path):
    pol = tmp_path / 'p.pol'
    pol.write_text(POLICY + '''
案例 "不填增速"
  日期：2025-01-01
  输入：年营业收入 = 1.2亿元
  期望：晋级补差奖励 = 150万元
''', encoding='utf-8')
    r = CliRunner().invoke(cli, ['check', str(pol)])
    assert r.exit_code == 0 and 'W-DEFAULT-ELIGIBLE' not in r.output


def test_no_warning_when_a_condition_needs_a_given_fact(tmp_path):
    pol = tmp_path / 'p.pol'
    pol.write_text(POLICY.replace('条件：营业收入增速 不低于 行业平均增速',
                                  '条件：营业收入增速 高于 行业平均增速'), encoding='utf-8')
    r = CliRunner().invoke(cli, ['check', str(pol)])        # 0% > 0% is false
    assert 'W-DEFAULT-ELIGIBLE' not in r.output


def test_strict_mode_reaches_each_listed_record():
    """漳州（八）per event: 25 firms and 30万元 of spending meet the written thresholds, but whether
    the event was 经工信部门认定 was not given; strict mode must not take the default (否) for it.
    The second event gives every fact: 12万元 × 50% = 6万元 (under the 10万元 cap), a ceiling."""
    import polc
    c = polc.load(str(Path(__file__).resolve().parent.parent / 'policies' / 'zhangzhou.pol'))
    facts = {'活动': [{'名称': '对接会', '活动参与企业数': 25, '活动实际支出': '30万元'},
                    {'名称': '分享会', '活动参与企业数': 20, '活动实际支出': '12万元', '活动经工信部门认定': True}]}
    strict = c.evaluate(facts, date='2025-06-01', strict=True).item('交流活动补助')
    recs = {r.label: r for r in strict.records}
    first = next(r for label, r in recs.items() if '对接会' in label)
    second = next(r for label, r in recs.items() if '分享会' in label)
    assert first.outcome == 'missing_facts' and '活动经工信部门认定' in first.detail
    assert second.outcome == 'ceiling' and second.amount == Decimal('60000.00')
    assert ('活动经工信部门认定', '否') in strict.unfilled
    lenient = c.evaluate(facts, date='2025-06-01').item('交流活动补助')
    assert all(r.outcome != 'missing_facts' for r in lenient.records)
