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


def _zhangzhou_against(tmp_path, source_text, policy_edit=lambda t: t):
    (tmp_path / 'sources').mkdir()
    (tmp_path / 'sources' / 'z.txt').write_text(source_text, encoding='utf-8')
    text = policy_edit((ROOT / 'policies' / 'zhangzhou.pol').read_text(encoding='utf-8'))
    text = text.replace('来源："sources/zhangzhou.txt"', '来源："sources/z.txt"')
    pol = tmp_path / 'z.pol'
    pol.write_text(text, encoding='utf-8')
    analysis = analyze(text, str(pol))
    assert analysis.ok
    return coverage(analysis.checked, str(pol)), pol


def test_a_source_crawled_as_one_line_counts_its_clauses(tmp_path):
    """Issue 14 §3: seed 000 is the 漳州 text as one paragraph; its clauses （一）…（八） follow
    sentence ends, not line starts.  `check --report` counted none and crashed."""
    seed = ROOT.parent / 'shared' / 'seeds' / '000_adcdb56546bcba13.txt'
    one_line = seed.read_text(encoding='utf-8') if seed.exists() else ' '.join(
        (ROOT / 'policies' / 'sources' / 'zhangzhou.txt').read_text(encoding='utf-8').split())
    # the crawled seed has one short line before the paragraph; every clause is inside the paragraph
    body = max(one_line.splitlines(), key=len)
    assert all(f'({n})' in body or f'（{n}）' in body for n in '一二三四五六七八')
    cov, pol = _zhangzhou_against(tmp_path, one_line)
    assert cov.document_clauses == (1, 2, 3, 4, 5, 6, 7, 8) and cov.missing == ()
    from click.testing import CliRunner
    from polc.compiler.cli import cli
    r = CliRunner().invoke(cli, ['check', '--report', str(pol)])
    assert r.exit_code == 0, r.output
    assert '中的条款：8；已编码：8（100%）' in r.output


def test_a_source_without_clause_numbers_is_reported_not_a_crash(tmp_path):
    cov, pol = _zhangzhou_against(tmp_path, '没有编号的文字。')
    from click.testing import CliRunner
    from polc.compiler.cli import cli
    r = CliRunner().invoke(cli, ['check', '--report', str(pol)])
    assert '没有找到与本政策编号写法相同的条款编号' in r.output and '内部错误' not in r.output


def test_a_quote_differing_only_in_final_punctuation_is_a_near_match(tmp_path):
    src = (ROOT / 'policies' / 'sources' / 'zhangzhou.txt').read_text(encoding='utf-8')
    quote = '以普惠算力降低人工智能企业研发投入，支持企业购买算力服务。'
    assert match_form(quote) in match_form(src)
    cov, _pol = _zhangzhou_against(tmp_path, src, lambda t: t.replace(quote, quote[:-1] + '；'))
    assert cov.source_not_found == ()
    assert len(cov.source_near) == 1
    assert '原文末尾「；」，原文件此处「。」' in cov.source_near[0]
