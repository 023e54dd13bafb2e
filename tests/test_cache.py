"""The on-disk parse cache: same AST, stale or broken entries ignored, bounded in size."""
from pathlib import Path

from polc.dsl import cache
from polc.dsl.parser import parse

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / 'tests' / 'data' / 'sample.pol').read_text(encoding='utf-8')


def test_cached_parse_gives_the_same_policy(tmp_path, monkeypatch):
    monkeypatch.setenv('POLC_CACHE_DIR', str(tmp_path))
    first = parse(TEXT)
    assert any(p.name.startswith('ast-') for p in tmp_path.iterdir())
    second = parse(TEXT)
    assert second.policy == first.policy
    assert second.policy.clauses[0].span == first.policy.clauses[0].span


def test_a_broken_cache_entry_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv('POLC_CACHE_DIR', str(tmp_path))
    parse(TEXT)
    for p in tmp_path.iterdir():
        if p.name.startswith('ast-'):
            p.write_bytes(b'not a pickle')
    assert parse(TEXT).policy is not None and parse(TEXT).diagnostics == ()


def test_no_cache_and_bounded_size(tmp_path, monkeypatch):
    monkeypatch.setenv('POLC_NO_CACHE', '1')
    assert cache.cache_dir() is None
    monkeypatch.delenv('POLC_NO_CACHE')
    monkeypatch.setenv('POLC_CACHE_DIR', str(tmp_path))
    monkeypatch.setattr(cache, 'MAX_ENTRIES', 10)
    for i in range(25):
        cache.store(f'ast-{i}.pickle', i)
    assert len([p for p in tmp_path.iterdir() if p.name.startswith('ast-')]) <= 10
