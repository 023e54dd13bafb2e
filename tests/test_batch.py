"""Batch evaluation over CSV, JSONL and Parquet agrees with evaluating each applicant alone."""
import csv
import json
import re
import random
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import polc
from polc.compiler.tables.rowwise import run_batch
from polc.compiler.cli import cli

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / 'policies').glob('*.pol')) + [ROOT / 'tests' / 'data' / 'sample.pol']


def _rows(compiled, n, seed=3):
    """Deterministic applicants: money near the policy's thresholds and spread out, every enum value."""
    import polc.testing as T
    th = T.thresholds(compiled)
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        row = {}
        for name, (kind, values, default, _d) in compiled.inputs.items():
            if default is not None and rnd.random() < 0.3:
                continue
            if kind == 'money':
                pts = th['money']
                v = rnd.choice(pts) + Decimal(rnd.choice([-1, 0, 1])) / 100 if pts and rnd.random() < 0.5 \
                    else Decimal(rnd.randrange(0, 10 ** rnd.randint(1, 11))) / 100
                row[name] = str(max(v, Decimal(0)))
            elif kind == 'percent':
                row[name] = f'{rnd.randrange(-50, 200)}%'
            elif kind == 'int':
                row[name] = str(rnd.randint(0, 5))
            elif kind == 'bool':
                row[name] = rnd.choice(['是', '否'])
            elif kind == 'date':
                row[name] = f'202{rnd.randint(3, 8)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}'
            else:
                row[name] = rnd.choice(values)
        rows.append(row)
    return rows


def _expected(compiled, row, date):
    res = compiled.evaluate(row, date=date, explain=False)
    out = {}
    for it in res.items:
        value = it.paid if it.outcome == 'amount' else it.ceiling if it.outcome == 'ceiling' else None
        out[f'{it.name}.结果'] = it.outcome
        out[f'{it.name}.金额'] = '' if value is None else f'{value.quantize(Decimal("0.01")):f}'
    # the total before quotas and pools: 合计, named 应得合计（削减前） when the policy has any
    limited = any(info.get('quota') is not None or info.get('pool') is not None
                  for info, _f in compiled.namespace['ITEMS'])
    out['应得合计（削减前）' if limited else '合计'] = f'{res.total.quantize(Decimal("0.01")):f}'
    return out


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
@pytest.mark.parametrize('fmt', ['csv', 'jsonl'])
def test_batch_agrees_with_single_evaluation(tmp_path, path, fmt):
    compiled = polc.load(path)
    rows = _rows(compiled, 400)
    columns = list(compiled.inputs)
    src = tmp_path / f'in.{fmt}'
    if fmt == 'csv':
        with open(src, 'w', newline='', encoding='utf-8') as f:
            w = csv.writer(f)
            w.writerow(columns)
            for r in rows:
                w.writerow([r.get(c, '') for c in columns])
    else:
        src.write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows), encoding='utf-8')
    out = tmp_path / f'out.{fmt}'
    summary = run_batch(compiled, str(src), str(out), '2025-06-01')
    assert summary.written == len(rows) and summary.rejected == 0
    if fmt == 'csv':
        with open(out, newline='', encoding='utf-8') as f:
            got = list(csv.DictReader(f))
    else:
        got = [json.loads(l) for l in out.read_text(encoding='utf-8').splitlines()]
    for i, (row, res) in enumerate(zip(rows, got), start=1):
        assert res['行号'] == str(i)
        want = _expected(compiled, row, '2025-06-01')
        assert {k: res[k] for k in want} == want


def test_parquet_round_trip(tmp_path):
    pa = pytest.importorskip('pyarrow')
    import pyarrow.parquet as pq
    compiled = polc.load(ROOT / 'tests' / 'data' / 'sample.pol')
    rows = _rows(compiled, 200)
    table = pa.Table.from_pylist([{c: r.get(c) for c in compiled.inputs} for r in rows])
    pq.write_table(table, tmp_path / 'in.parquet')
    summary = run_batch(compiled, str(tmp_path / 'in.parquet'), str(tmp_path / 'out.parquet'), '2025-06-01')
    assert summary.written == 200
    got = pq.read_table(tmp_path / 'out.parquet').to_pylist()
    for row, res in zip(rows, got):
        want = _expected(compiled, row, '2025-06-01')
        assert {k: res[k] for k in want} == want


def test_bad_row_names_its_row_number_and_skip_bad_writes_rejects(tmp_path):
    pol = ROOT / 'tests' / 'data' / 'sample.pol'
    src = tmp_path / 'in.csv'
    src.write_text('编号,攻关算力成本,企业类别\nA,100万元,新增\nB,很多,新增\nC,5万元,外星\nD,1元,其他\n',
                   encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(src), '--out', str(tmp_path / 'o.csv'),
                                 '--id-column', '编号', '--date', '2025-06-01'])
    assert r.exit_code == 2 and '第 2 行' in r.output and '攻关算力成本' in r.output
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(src), '--out', str(tmp_path / 'o.csv'),
                                 '--id-column', '编号', '--date', '2025-06-01', '--skip-bad', '--rejects',
                                 str(tmp_path / 'rej.jsonl')])
    assert r.exit_code == 0, r.output
    assert '计算了 2 行' in r.output and '跳过有错误的行 2 行' in r.output
    rejects = [json.loads(l) for l in (tmp_path / 'rej.jsonl').read_text(encoding='utf-8').splitlines()]
    assert [x['行号'] for x in rejects] == [2, 3]
    assert '企业类别' in rejects[1]['错误']
    with open(tmp_path / 'o.csv', newline='', encoding='utf-8') as f:
        got = list(csv.DictReader(f))
    assert [g['编号'] for g in got] == ['A', 'D']
    # A: 100万元 × 60% = 60万元 (攻关算力券, the only voucher), 新增企业奖励 35万元 → 95万元
    assert got[0]['应得合计（削减前）'] == got[0]['实发合计'] == '950000.00'   # 爆款 quota: no claim


def test_malformed_tables(tmp_path):
    compiled = polc.load(ROOT / 'tests' / 'data' / 'sample.pol')
    from polc.compiler.tables.io import BatchError
    bad = tmp_path / 'bad.jsonl'
    bad.write_text('{"落户": true}\n{"落户": \n', encoding='utf-8')
    with pytest.raises(BatchError, match='第 2 行'):
        run_batch(compiled, str(bad), str(tmp_path / 'o.jsonl'), '2025-06-01')
    ragged = tmp_path / 'r.csv'
    ragged.write_text('落户,企业类别\n是\n', encoding='utf-8')
    with pytest.raises(BatchError, match='第 1 行'):
        run_batch(compiled, str(ragged), str(tmp_path / 'o.csv'), '2025-06-01')
    with pytest.raises(BatchError, match='格式'):           # .xlsx is read now (tests/test_excel.py)
        run_batch(compiled, str(tmp_path / 'x.numbers'), str(tmp_path / 'o.csv'), '2025-06-01')


@pytest.mark.parametrize('fmt', ['csv', 'jsonl', 'parquet'])
def test_progress_follows_the_input_to_the_end(tmp_path, fmt):
    if fmt == 'parquet':
        pytest.importorskip('pyarrow')
    compiled = polc.load(ROOT / 'tests' / 'data' / 'sample.pol')
    rows = _rows(compiled, 45_000, seed=6)
    src = tmp_path / f'in.{fmt}'
    if fmt == 'csv':
        with open(src, 'w', newline='', encoding='utf-8') as f:
            w = csv.writer(f)
            w.writerow(list(compiled.inputs))
            for r in rows:
                w.writerow([r.get(c, '') for c in compiled.inputs])
    elif fmt == 'jsonl':
        src.write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows), encoding='utf-8')
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq
        pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in compiled.inputs} for r in rows]), src)
    seen = []
    run_batch(compiled, str(src), str(tmp_path / 'o.csv'), '2025-06-01', progress=lambda n, f: seen.append((n, f)))
    assert [n for n, _f in seen] == [20_000, 40_000]
    assert 0 < seen[0][1] < seen[1][1] <= 1.0
    assert abs(seen[1][1] - 40_000 / 45_000) < 0.1            # bytes read track rows read


def test_the_progress_bar_draws_on_stderr(capsys):
    # click's progress bar (the hand-written one is gone): percent, rows, rate and ETA on stderr
    import io
    import time
    from polc.compiler.cli.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    bar = Progress('计算', file=term)
    bar.started = time.monotonic() - 2                  # 20,000 rows in 2 s: 10,000 rows a second
    bar.bar.start -= 2                                  # (click's own clock, for its ETA)
    bar.bar.last_eta -= 2
    bar.rows(20_000, 0.5)
    bar.close()
    err = term.getvalue()
    assert '50%' in err and '20,000 行' in err and '每秒 10,000 行' in err and err.endswith('\n')
    assert re.search(r'\d\d:\d\d:\d\d', err), err           # the ETA
    quiet = Progress('计算')                               # not a terminal (pytest captures stderr)
    quiet.rows(20_000, 0.5)
    quiet.close()
    assert capsys.readouterr().err == ''
