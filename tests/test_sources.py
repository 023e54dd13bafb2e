"""Every seed policy is complete against its source document, and every 原文 is quoted exactly."""
from pathlib import Path

import pytest

from polc.dsl.analysis import analyze, read_source
from polc.dsl.coverage import coverage, match_form

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / 'policies').glob('*.pol'))
CITIES = ['zhangzhou', 'fuzhou', 'langfang', 'xiamen']


def test_the_four_seed_policies_exist():
    assert sorted(p.stem for p in POLICIES) == sorted(CITIES)


def test_match_form_ignores_layout_and_width():
    doc = '按交\n易额 30%给予奖励，\n\n— 5 —\n\n最高 100 万元。'
    assert match_form('按交易额30％给予奖励，最高100万元。') in match_form(doc)
    assert match_form('按交易额20%给予奖励') not in match_form(doc)


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_policy_is_complete_and_quotes_its_source(path):
    text = read_source(path)
    analysis = analyze(text, str(path))
    assert analysis.ok, [d.message for d in analysis.diagnostics]
    cov = coverage(analysis.checked, str(path))
    assert cov.source_file, '政策头应写「来源」'
    assert cov.document_clauses, '无法从原文件识别条款编号'
    assert cov.missing == (), f'缺少条款：{cov.missing}'
    assert cov.source_count > len(cov.clauses)
    assert cov.source_not_found == ()
    # every item says where it comes from
    for c in analysis.policy.clauses:
        for it in c.items:
            assert it.source or c.source, f'{c.number} {it.name.text} 没有原文'
