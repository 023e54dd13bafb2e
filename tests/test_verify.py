"""polc verify: guarantees proved or searched, counterexamples, cliffs; mutation testing."""
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import polc
from polc.compiler.cli import cli
from polc.compiler.analysis.mutation import run as run_mutation
from polc.compiler.analysis.verify import verify

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / 'policies').glob('*.pol'))

BASE = ('政策：甲\n施行日期：2024-01-01\n输入 收入：金额 默认 0元\n输入 费用：金额 默认 0元\n'
        '条款 （一） 乙\n'
        '  项 丙\n    金额：收入 × 30% 最高 100万元\n'
        '  项 丁\n    金额：分档（当 收入 在 30万元（含） 以上：按规定享受 "省级政策"；'
        '当 收入 在 10万元（含） 至 30万元（不含）：收入 × 50%）\n'
        '  项 戊\n    金额：费用 × 60%\n  项 己\n    金额：费用 × 50%\n'
        '组 择优：就高（戊、己）\n')


def _statuses(text):
    report = verify(polc.loads(text, 'g.pol'), examples=200)
    return {o.guarantee.label: o for o in report.outcomes}, report


def test_linear_guarantees_are_proved_by_the_solver():
    out, report = _statuses(BASE + '保证：丙 不超过 100万元\n保证：丙 随 收入 不减\n')
    assert out['保证：「丙」 不超过 100万元'].status == 'proved'
    assert out['保证：「丙」 随「收入」不减'].status == 'proved'
    assert out['「丙」不超过上限 100万元'].method == 'solver'
    assert out['「丙」按比例计算的金额不超过其基数「收入」'].status == 'proved'
    assert not report.failed


def test_a_false_bound_gets_a_counterexample_that_eval_accepts(tmp_path):
    out, report = _statuses(BASE + '保证 "笔误"：丙 不超过 10万元\n')
    o = out['保证「笔误」：「丙」 不超过 10万元']
    assert o.status == 'failed' and report.failed
    facts = {k: v for k, v in o.counterexample.items() if k != '日期'}
    # the counterexample really breaks the bound: 收入 × 30% > 10万元
    assert Decimal(facts['收入']) * Decimal('0.3') > Decimal(100000)
    pol = tmp_path / 'g.pol'
    pol.write_text(BASE + '保证 "笔误"：丙 不超过 10万元\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['verify', str(pol), '--out', str(tmp_path / 'cx'), '--examples', '100'])
    assert r.exit_code == 1 and '✗' in r.output
    cx = sorted((tmp_path / 'cx').glob('*.json'))
    assert cx
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(cx[0]), '--date', '2024-06-01'])
    assert r.exit_code == 0, r.output


def test_a_non_monotone_item_is_found_with_the_pair_of_values():
    out, _ = _statuses(BASE + '保证：丁 随 收入 不减\n')
    o = out['保证：「丁」 随「收入」不减']
    assert o.status == 'failed'
    assert '增至' in o.detail


def test_cliff_at_the_deferral_threshold():
    _, report = _statuses(BASE)
    cliffs = [(c.item, c.input, c.at) for c in report.cliffs]
    # one fen below: 299999.99元 × 50% = 149999.995元 → 150000.00元 (to the fen, half up);
    # at 30万元 the item defers to the provincial policy and this measure pays nothing
    assert ('丁', '收入', Decimal(300000)) in cliffs
    c = next(c for c in report.cliffs if c.item == '丁')
    assert c.drop == Decimal('150000.00')


def test_highest_group_never_pays_the_sum():
    out, _ = _statuses(BASE)
    assert out['组「择优」就高：至多一项获得金额，从不相加'].status == 'passed'
    assert out['组「择优」就高：至多一项获得金额，从不相加'].examples > 0


def test_guarantee_on_an_unknown_target_is_a_check_error():
    with pytest.raises(polc.PolcError) as e:
        polc.loads(BASE + '保证：不存在 不超过 1元\n')
    assert 'E-UNDEFINED' in str(e.value)


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_seed_policies_verify(path):
    report = verify(polc.load(path), examples=150)
    failed = [o.guarantee.label for o in report.outcomes if o.status == 'failed']
    assert not failed
    assert any(o.status == 'proved' for o in report.outcomes)


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_every_mutant_of_the_seed_policies_is_caught(path):
    results = run_mutation(path.read_text(encoding='utf-8'), str(path), verify_examples=60)
    assert len(results) >= 10
    survivors = [r.description for r in results if not r.caught_by]
    assert survivors == []


def test_mutation_can_fail_and_equivalence_is_not_assumed():
    # a policy without cases: raising the rate is not caught, and is not equivalent
    results = run_mutation(BASE, 'g.pol', verify_examples=30)
    rate = [r for r in results if '比例 30% → 35%' in r.description]
    assert rate and rate[0].caught_by == ''
