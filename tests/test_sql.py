"""The SQL path (compiler/sql/generate.py run by compiler/sql/engine.py on DuckDB, ``--engine duckdb``) agrees exactly with the per-row
path on every applicant of generated tables, for every policy; its SQL is portable.

Long mode: POLC_LONG=1 runs 1,000,000 applicants (200,000 per policy).
"""
import csv
import json
import os
import random
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

import polc
from polc.compiler.tables.io import BatchError
from polc.compiler.tables.rowwise import run_batch
from polc.compiler.cli import cli

duckdb = pytest.importorskip('duckdb')
sqlglot = pytest.importorskip('sqlglot')

from polc.compiler.sql.engine import run_duckdb  # noqa: E402
from polc.compiler.sql.dialects import to_dialect  # noqa: E402
from polc.compiler.sql.generate import SqlUnsupported, policy_sql  # noqa: E402

from test_batch import POLICIES, _rows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LONG = os.environ.get('POLC_LONG') == '1'
ROWS = 200_000 if LONG else 1_500
FW = str.maketrans('0123456789', '０１２３４５６７８９')


def _spelled(rows, compiled, seed=5):
    """The same applicants, some money written the ways people write it (万元, 亿, commas,
    full-width digits) — the SQL path must read them as the per-row path does."""
    rnd = random.Random(seed)
    money = [n for n, (k, *_r) in compiled.inputs.items() if k == 'money']
    out = []
    for row in rows:
        row = dict(row)
        for name in money:
            if name in row and rnd.random() < 0.3:
                v = Decimal(row[name])
                choice = rnd.randrange(4)
                if choice == 0 and v == v.quantize(Decimal('0.01')):
                    row[name] = f'{(v / 10000).normalize():f}万元'
                elif choice == 1:
                    row[name] = f'{v:,}'
                elif choice == 2:
                    row[name] = f'{v}'.translate(FW)
                else:
                    row[name] = f'{v}元'
        out.append(row)
    return out


def _write_csv(path, compiled, rows):
    columns = list(compiled.inputs)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, '') for c in columns])


def _read_csv(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def _both(compiled, src, tmp_path, date, suffix='csv', **kw):
    a, b = tmp_path / f'row.{suffix}', tmp_path / f'sql.{suffix}'
    s1 = run_batch(compiled, str(src), str(a), date, **kw)
    s2 = run_duckdb(compiled, str(src), str(b), date, **kw)
    return s1, s2, a, b


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
@pytest.mark.parametrize('date', ['2025-06-01', '2020-01-01'])
def test_sql_agrees_with_the_per_row_path(tmp_path, path, date):
    compiled = polc.load(path)
    rows = _spelled(_rows(compiled, ROWS, seed=11), compiled)
    src = tmp_path / 'in.csv'
    _write_csv(src, compiled, rows)
    s1, s2, a, b = _both(compiled, src, tmp_path, date)
    assert s2.rows == s1.rows == len(rows) and s2.rejected == s1.rejected == 0
    assert a.read_bytes() == b.read_bytes()          # the same file, byte for byte
    got_row, got_sql = _read_csv(a), _read_csv(b)
    assert len(got_sql) == len(got_row)
    for x, y in zip(got_row, got_sql):
        assert x == y, {k: (x[k], y.get(k)) for k in x if x[k] != y.get(k)}
    assert s1.total == s2.total and s1.totals == s2.totals
    for name in s1.allocations:
        assert s1.allocations[name] == s2.allocations[name]


def test_the_total_is_the_sum_of_the_amounts(tmp_path):
    """Independent of the per-row path: in the SQL output, 合计 is the sum of the amount items."""
    compiled = polc.load(ROOT / 'policies' / 'langfang.pol')
    src = tmp_path / 'in.csv'
    _write_csv(src, compiled, _rows(compiled, 300, seed=2))
    run_duckdb(compiled, str(src), str(tmp_path / 'o.csv'), '2025-06-01')
    for r in _read_csv(tmp_path / 'o.csv'):
        amounts = [Decimal(r[k[:-3] + '.金额']) for k in r if k.endswith('.结果') and r[k] == 'amount']
        assert Decimal(r['应得合计（削减前）']) == sum(amounts, Decimal(0))      # langfang has quotas and pools
        assert all(a >= 0 and a == a.quantize(Decimal('0.01')) for a in amounts)


def test_parquet_in_and_out_with_typed_columns(tmp_path):
    pa = pytest.importorskip('pyarrow')
    import pyarrow.parquet as pq
    compiled = polc.load(ROOT / 'policies' / 'zhangzhou.pol')
    rows = _rows(compiled, 500, seed=4)
    # typed Parquet: money as DECIMAL(20, 2), integers as int64, booleans as bool, percents as text
    fields, arrays = [], []
    for name, (kind, *_r) in compiled.inputs.items():
        vals = [r.get(name) for r in rows]
        if kind == 'money':
            fields.append(pa.field(name, pa.decimal128(20, 2)))
            arrays.append([None if v is None else Decimal(v) for v in vals])
        elif kind == 'int':
            fields.append(pa.field(name, pa.int64()))
            arrays.append([None if v is None else int(v) for v in vals])
        elif kind == 'bool':
            fields.append(pa.field(name, pa.bool_()))
            arrays.append([None if v is None else v == '是' for v in vals])
        else:
            fields.append(pa.field(name, pa.string()))
            arrays.append(vals)
    pq.write_table(pa.table(arrays, schema=pa.schema(fields)), tmp_path / 'in.parquet')
    s1, s2, a, b = _both(compiled, tmp_path / 'in.parquet', tmp_path, '2025-06-01', suffix='parquet')
    row_path = pq.read_table(a).to_pylist()
    sql_path = pq.read_table(b).to_pylist()
    assert len(sql_path) == 500 and s1.total == s2.total
    for x, y in zip(row_path, sql_path):
        for k, v in x.items():
            w = y[k]
            assert (v or None) == (None if w is None else (f'{w:.2f}' if isinstance(w, Decimal) else str(w))), k


def test_jsonl_with_numbers_keeps_them_exact(tmp_path):
    compiled = polc.load(ROOT / 'tests' / 'data' / 'sample.pol')
    rows = _rows(compiled, 300, seed=8)
    src = tmp_path / 'in.jsonl'
    # money as JSON numbers (read as Decimal, never float)
    src.write_text(''.join(json.dumps({k: (json.loads(v) if compiled.inputs[k][0] == 'money' else v)
                                       for k, v in r.items()}, ensure_ascii=False) + '\n' for r in rows),
                   encoding='utf-8')
    s1, s2, a, b = _both(compiled, src, tmp_path, '2025-06-01', suffix='jsonl')
    assert [json.loads(x) for x in a.read_text(encoding='utf-8').splitlines()] == \
        [json.loads(x) for x in b.read_text(encoding='utf-8').splitlines()]
    assert a.read_bytes() == b.read_bytes()


def test_bad_rows_are_named_and_rejected_like_the_per_row_path(tmp_path):
    pol = ROOT / 'tests' / 'data' / 'sample.pol'
    compiled = polc.load(pol)
    src = tmp_path / 'in.csv'
    src.write_text('编号,攻关算力成本,企业类别\nA,100万元,新增\nB,很多,新增\n\nC,5万元,外星\nD,1元,其他\n'
                   'E,-3元,其他\nF,0.001元,其他\n', encoding='utf-8')
    with pytest.raises(BatchError) as e:
        run_duckdb(compiled, str(src), str(tmp_path / 'o.csv'), '2025-06-01', id_column='编号')
    assert '第 2 行' in str(e.value) and '攻关算力成本' in str(e.value) and '很多' in str(e.value)
    a, b = tmp_path / 'row.csv', tmp_path / 'sql.csv'
    s1 = run_batch(compiled, str(src), str(a), '2025-06-01', id_column='编号', skip_bad=True,
                   rejects_path=str(tmp_path / 'rej-row.jsonl'))
    s2 = run_duckdb(compiled, str(src), str(b), '2025-06-01', id_column='编号', skip_bad=True,
                    rejects_path=str(tmp_path / 'rej-sql.jsonl'))
    assert s1.rejected == s2.rejected == 4 and s2.written == 2
    for name in ('rej-row.jsonl', 'rej-sql.jsonl'):
        rej = [json.loads(x) for x in (tmp_path / name).read_text(encoding='utf-8').splitlines()]
        assert [r['行号'] for r in rej] == [2, 3, 5, 6]
        assert '企业类别' in rej[1]['错误'] and '外星' in rej[1]['错误']
        assert '负数' in rej[2]['错误'] and '分' in rej[3]['错误']
        assert rej[0]['数据'] == {'编号': 'B', '攻关算力成本': '很多', '企业类别': '新增'}
    assert _read_csv(a) == _read_csv(b)
    # A: 100万元 × 60% = 60万元 攻关算力券 + 新增企业奖励 35万元 = 95万元 (as in test_batch)
    assert _read_csv(b)[0]['应得合计（削减前）'] == _read_csv(b)[0]['实发合计'] == '950000.00'


def test_file_level_problems(tmp_path):
    compiled = polc.load(ROOT / 'tests' / 'data' / 'sample.pol')
    (tmp_path / 'u.csv').write_text('攻关算力成本,外星输入\n1,2\n', encoding='utf-8')
    with pytest.raises(BatchError, match='外星输入'):
        run_duckdb(compiled, str(tmp_path / 'u.csv'), str(tmp_path / 'o.csv'), '2025-06-01')
    (tmp_path / 'n.csv').write_text('行号,攻关算力成本\n7,1\n', encoding='utf-8')
    with pytest.raises(BatchError, match='「行号」：未声明的输入'):       # as the per-row path says
        run_duckdb(compiled, str(tmp_path / 'n.csv'), str(tmp_path / 'o.csv'), '2025-06-01')
    with pytest.raises(BatchError, match='「行号」：未声明的输入'):
        run_batch(compiled, str(tmp_path / 'n.csv'), str(tmp_path / 'o.csv'), '2025-06-01')
    with pytest.raises(BatchError, match='文件不存在'):
        run_duckdb(compiled, str(tmp_path / 'none.csv'), str(tmp_path / 'o.csv'), '2025-06-01')
    pa = pytest.importorskip('pyarrow')
    import pyarrow.parquet as pq
    pq.write_table(pa.table({'攻关算力成本': [1.5]}), tmp_path / 'f.parquet')
    with pytest.raises(BatchError, match='浮点数'):
        run_duckdb(compiled, str(tmp_path / 'f.parquet'), str(tmp_path / 'o.csv'), '2025-06-01')


@pytest.mark.parametrize('skip_bad', [False, True])
@pytest.mark.parametrize('body', ['', '1,2\n'])
def test_an_undeclared_column_refuses_the_table_on_both_engines(tmp_path, body, skip_bad):
    # 外星输入 is no input of sample.pol: the header is wrong, whether or not rows follow and with
    # or without --skip-bad (the per-row engine once wrote an empty result for a header-only table
    # and rejected every row one by one under --skip-bad, exit 0, where DuckDB refused the table)
    compiled = polc.load(ROOT / 'tests' / 'data' / 'sample.pol')
    src = tmp_path / 'u.csv'
    src.write_text('攻关算力成本,外星输入\n' + body, encoding='utf-8')
    for engine, run in (('python', run_batch), ('duckdb', run_duckdb)):
        out = tmp_path / f'{engine}.csv'
        with pytest.raises(BatchError) as exc:
            run(compiled, str(src), str(out), '2025-06-01', skip_bad=skip_bad,
                rejects_path=str(tmp_path / f'{engine}.jsonl') if skip_bad else None)
        assert str(exc.value) == f'{src}：「外星输入」：未声明的输入（政策中没有这一项）', engine
        assert not out.exists() and not (tmp_path / f'{engine}.jsonl').exists()
    r = [CliRunner().invoke(cli, ['eval', str(ROOT / 'tests' / 'data' / 'sample.pol'), '--facts', str(src),
                                  '--out', str(tmp_path / f'{e}.csv'), '--date', '2025-06-01', '--engine', e])
         for e in ('python', 'duckdb')]
    assert [x.exit_code for x in r] == [2, 2] and r[0].output == r[1].output
    # a header spelt in the other script (简/繁) is the declared input, not an undeclared one
    src.write_text('攻關算力成本\n' + body.split(',')[0] + ('\n' if body else ''), encoding='utf-8')
    for run in (run_batch, run_duckdb):
        assert run(compiled, str(src), str(tmp_path / 'ok.csv'), '2025-06-01').rows == (1 if body else 0)


@pytest.mark.parametrize('skip_bad', [False, True])
@pytest.mark.parametrize('body', ['', '5,a\n6,b\n'])
def test_a_missing_required_column_or_id_column_refuses_the_table_on_both_engines(tmp_path, body, skip_bad):
    # 收入 is required (no 默认) and has no column; --id-column 名称 names no column: both are the
    # header's errors, refused as a whole on both engines (the per-row engine once rejected every
    # row under --skip-bad and wrote an empty result, exit 0)
    pol = tmp_path / 'p.pol'
    pol.write_text('政策：必填\n输入 收入：金额 "收入"\n输入 成本：金额 "成本" 默认 0元\n\n'
                   '条款 （一） 甲\n  项 乙\n    金额：收入 × 10%\n', encoding='utf-8')
    compiled = polc.load(pol)
    src = tmp_path / 'm.csv'
    src.write_text('成本,编号\n' + body, encoding='utf-8')
    for engine, run in (('python', run_batch), ('duckdb', run_duckdb)):
        out = tmp_path / f'{engine}.csv'
        with pytest.raises(BatchError) as exc:
            run(compiled, str(src), str(out), '2025-06-01', id_column='名称', skip_bad=skip_bad,
                rejects_path=str(tmp_path / f'{engine}.jsonl') if skip_bad else None)
        assert str(exc.value) == (f'{src}：「编号」：未声明的输入（政策中没有这一项）；「收入」：缺少必填输入（表中没有这一列）；'
                                  f'表中没有编号列「名称」'), engine
        assert not out.exists() and not (tmp_path / f'{engine}.jsonl').exists()
    src.write_text('成本\n' + ''.join(line.split(',')[0] + '\n' for line in body.splitlines()), encoding='utf-8')
    for engine, run in (('python', run_batch), ('duckdb', run_duckdb)):
        with pytest.raises(BatchError) as exc:
            run(compiled, str(src), str(tmp_path / f'{engine}2.csv'), '2025-06-01', skip_bad=skip_bad,
                rejects_path=str(tmp_path / f'{engine}2.jsonl') if skip_bad else None)
        assert str(exc.value) == f'{src}：「收入」：缺少必填输入（表中没有这一列）', engine


def test_cli_engine_duckdb(tmp_path):
    pol = ROOT / 'policies' / 'xiamen.pol'
    compiled = polc.load(pol)
    src = tmp_path / 'in.csv'
    _write_csv(src, compiled, _rows(compiled, 200, seed=9))
    outs = []
    for engine in ('python', 'duckdb'):
        r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(src), '--out', str(tmp_path / f'{engine}.csv'),
                                     '--date', '2025-06-01', '--engine', engine])
        assert r.exit_code == 0, r.output
        outs.append(r.output.replace(str(tmp_path / f'{engine}.csv'), 'OUT'))
    assert outs[0] == outs[1]                  # the same summary line, totals and allocations
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(ROOT / 'policies' / 'examples' / 'xiamen.json'),
                                 '--engine', 'duckdb'])
    assert r.exit_code == 2 and '批量' in r.output


def test_division_by_a_fact_outside_a_comparison_is_refused(tmp_path):
    text = ('政策：除法\n输入 收入：金额 "收入"\n输入 人数：整数 "人数"\n\n'
            '条款 （一） 人均\n  项 人均补助\n    金额：收入 ÷ 人数 × 1%\n')
    pol = tmp_path / 'd.pol'
    pol.write_text(text, encoding='utf-8')
    compiled = polc.load(pol)
    with pytest.raises(SqlUnsupported, match='除以输入值'):
        policy_sql(compiled.analysis.checked, __import__('datetime').date(2025, 1, 1))
    r = CliRunner().invoke(cli, ['sql', str(pol)])
    assert r.exit_code == 1 and 'E-SQL' in r.output and '--engine python' in r.output


# ------------------------------------------------------------------ portability
FUNCS_ALLOWED = {'And', 'Or', 'Not', 'Coalesce', 'Cast', 'Case', 'If', 'Greatest', 'Least', 'Floor', 'Ceil', 'Round', 'Sum', 'Count'}


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_the_sql_is_portable(path):
    compiled = polc.load(path)
    import datetime as dt
    query = policy_sql(compiled.analysis.checked, dt.date(2025, 6, 1))
    tree = sqlglot.parse_one(query, read='duckdb')
    used = {type(n).__name__ for n in tree.walk() if isinstance(n, sqlglot.exp.Func)}
    assert used <= FUNCS_ALLOWED, used - FUNCS_ALLOWED
    assert not list(tree.find_all(sqlglot.exp.Div)), 'no division may be emitted'
    for dialect in ('spark', 'trino', 'postgres', 'bigquery'):
        text = to_dialect(query, dialect)
        again = sqlglot.parse_one(text, read=dialect)           # the other engine's parser accepts it
        assert len(list(again.find_all(sqlglot.exp.Case))) == len(list(tree.find_all(sqlglot.exp.Case)))


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_the_spark_text_computes_the_same_on_duckdb(tmp_path, path):
    """Through Spark SQL's spelling and back: the rewritten query gives the same numbers."""
    compiled = polc.load(path)
    import datetime as dt
    query = policy_sql(compiled.analysis.checked, dt.date(2025, 6, 1))
    back = sqlglot.transpile(to_dialect(query, 'spark'), read='spark', write='duckdb')[0]
    src = tmp_path / 'in.csv'
    _write_csv(src, compiled, _rows(compiled, 300, seed=13))
    con = duckdb.connect()
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{src}', all_varchar = true, header = true)")
    # the per-row path's typed facts, loaded as a typed table
    from polc.compiler.python import runtime as R
    cols = list(compiled.inputs)
    types = {'money': 'DECIMAL(38, 2)', 'percent': 'DECIMAL(38, 10)', 'int': 'BIGINT', 'bool': 'BOOLEAN',
             'date': 'DATE', 'enum': 'VARCHAR'}
    con.execute('CREATE TABLE facts ("行号" BIGINT, ' + ', '.join(
        f'"{c}" {types[compiled.inputs[c][0]]}' for c in cols) + ')')
    rows = []
    for i, r in enumerate(_rows(compiled, 300, seed=13), start=1):
        given = {k: v for k, v in r.items()}
        typed = R.coerce_facts(compiled.inputs, given)
        rows.append([i] + [typed[c] if c in given else None for c in cols])
    con.executemany(f'INSERT INTO facts VALUES ({", ".join("?" * (len(cols) + 1))})', rows)
    assert con.execute(query).fetchall() == con.execute(back).fetchall()


# ------------------------------------------------------------------ properties
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_sql_equals_evaluate_on_hypothesis_facts(tmp_path, data):
    import polc.testing as T
    compiled = _sample()
    facts = data.draw(st.lists(T.facts(compiled), min_size=1, max_size=12))
    src = tmp_path / 'h.jsonl'
    src.write_text(''.join(json.dumps({k: str(v) if not isinstance(v, bool) else v for k, v in f.items()},
                                      ensure_ascii=False) + '\n' for f in facts), encoding='utf-8')
    run_duckdb(compiled, str(src), str(tmp_path / 'h.csv'), '2025-06-01')
    got = _read_csv(tmp_path / 'h.csv')
    for f, row in zip(facts, got):
        res = compiled.evaluate(f, date='2025-06-01', explain=False)
        assert Decimal(row['应得合计（削减前）']) == res.total          # sample.pol has a quota
        for it in res.items:
            assert row[f'{it.name}.结果'] == it.outcome


_CACHE = {}


def _sample():
    if 'c' not in _CACHE:
        _CACHE['c'] = polc.load(ROOT / 'tests' / 'data' / 'sample.pol')
    return _CACHE['c']


def test_the_python_api_runs_both_engines_on_every_format(tmp_path):
    pa = pytest.importorskip('pyarrow')
    pol = ROOT / 'policies' / 'fuzhou.pol'
    compiled = polc.load(pol)
    rows = _rows(compiled, 300, seed=17)
    csv_in = tmp_path / 'in.csv'
    _write_csv(csv_in, compiled, rows)
    jsonl_in = tmp_path / 'in.jsonl'
    jsonl_in.write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows), encoding='utf-8')
    import pyarrow.parquet as pq
    pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in compiled.inputs} for r in rows]),
                   tmp_path / 'in.parquet')
    totals = set()
    for src in (csv_in, jsonl_in, tmp_path / 'in.parquet'):
        for engine in ('python', 'duckdb'):
            for fmt in ('csv', 'jsonl', 'parquet'):
                s = polc.evaluate_table(str(pol), str(src), str(tmp_path / f'o-{engine}.{fmt}'), '2026-06-01',
                                        engine=engine)
                assert s.written == 300
                totals.add((s.total, tuple(sorted(s.totals.items())), tuple(sorted(s.allocations.items()))))
    assert len(totals) == 1                       # one answer, whatever the format or the engine
    with pytest.raises(polc.BatchError, match='引擎'):
        polc.evaluate_table(compiled, str(csv_in), str(tmp_path / 'o.csv'), engine='spark')


def test_a_number_sql_cannot_hold_exactly_is_refused(tmp_path):
    pol = tmp_path / 'big.pol'
    pol.write_text('政策：大数\n输入 收入：金额 "收入"\n\n条款 （一） 甲\n  项 乙\n    金额：收入 × 30% 最高 '
                   + '1' + '0' * 40 + '元\n', encoding='utf-8')
    compiled = polc.load(pol)
    with pytest.raises(SqlUnsupported, match='38 位'):
        policy_sql(compiled.analysis.checked, __import__('datetime').date(2025, 1, 1))
    (tmp_path / 'in.csv').write_text('收入\n100\n', encoding='utf-8')
    with pytest.raises(BatchError, match='38 位'):
        run_duckdb(compiled, str(tmp_path / 'in.csv'), str(tmp_path / 'o.csv'), '2025-01-01')


def test_whole_steps_of_a_negative_base_and_no_negative_zero(tmp_path):
    """增量 may be negative: whole steps truncate toward zero in both engines, and a zero is
    written 0.00, never -0.00 (worked by hand: −25万 → −2 steps → −2万 → 0; +35万 → 3 × 1万;
    −5万 → −0 steps → 0)."""
    pol = tmp_path / 'p.pol'
    pol.write_text('政策：负\n输入 本年：金额 "本年"\n输入 上年：金额 "上年"\n定义 增量 = 本年 - 上年\n\n'
                   '条款 （一） 甲\n  项 乙\n    金额：增量 每满 10万元 给予 1万元\n', encoding='utf-8')
    compiled = polc.load(pol)
    (tmp_path / 'in.csv').write_text('本年,上年\n0,250000\n350000,0\n0,50000\n', encoding='utf-8')
    s1, s2, a, b = _both(compiled, tmp_path / 'in.csv', tmp_path, '2025-01-01')
    assert a.read_bytes() == b.read_bytes()
    assert [r['乙.金额'] for r in _read_csv(a)] == ['0.00', '30000.00', '0.00']


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_an_output_that_cannot_be_written_is_named(tmp_path, engine):
    src = tmp_path / 'in.csv'
    src.write_text('攻关算力成本\n100万元\n', encoding='utf-8')
    for out, words in ((tmp_path / 'no' / 'o.csv', '不存在'), (tmp_path, '目录')):
        r = CliRunner().invoke(cli, ['eval', str(ROOT / 'tests' / 'data' / 'sample.pol'), '--facts', str(src),
                                     '--out', str(out), '--engine', engine, '--date', '2025-06-01'])
        assert r.exit_code == 2 and words in r.output and str(out) in r.output, r.output
    r = CliRunner().invoke(cli, ['eval', str(ROOT / 'tests' / 'data' / 'sample.pol'), '--facts', str(src),
                                 '--out', str(tmp_path / 'o.csv'), '--allocation', str(tmp_path / 'x' / 'a.csv'),
                                 '--engine', engine])
    assert r.exit_code == 2 and 'a.csv' in r.output


@pytest.mark.parametrize('name', ['langfang', 'fuzhou', 'xiamen'])
def test_allocation_files_are_the_same_from_both_engines(tmp_path, name):
    """Who receives, how much, who is cut and why: the same file from either engine."""
    compiled = polc.load(ROOT / 'policies' / f'{name}.pol')
    rows = _rows(compiled, 800, seed=3)
    for i, r in enumerate(rows):
        r['编号'] = f'E{i:04d}'
    src = tmp_path / 'in.csv'
    columns = ['编号'] + list(compiled.inputs)
    with open(src, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, '') for c in columns])
    run_batch(compiled, str(src), str(tmp_path / 'a.csv'), '2026-06-01', id_column='编号',
              allocation_path=str(tmp_path / 'alloc-a.csv'))
    run_duckdb(compiled, str(src), str(tmp_path / 'b.csv'), '2026-06-01', id_column='编号',
               allocation_path=str(tmp_path / 'alloc-b.csv'))
    a = (tmp_path / 'alloc-a.csv').read_bytes()
    assert a == (tmp_path / 'alloc-b.csv').read_bytes()
    assert (tmp_path / 'a.csv').read_bytes() == (tmp_path / 'b.csv').read_bytes()
    assert a.count(b'\n') > 1                                   # there were claims to share


def test_results_say_what_is_paid_after_quotas_and_pools(tmp_path):
    # sample.pol: 爆款奖励 = 年销售额 每满 1000万元 50万元, 最高 300万元, 每年名额 10 (申请顺序);
    # 企业类别 新增: 新增企业奖励 35万元 each.  Twelve firms with 1000万 … 12000万: 爆款 50万 … 250万,
    # then 300万 from row 6 on.  Rows 11 and 12 are beyond the quota: their 爆款 is cut to 0, so
    # they are paid 35万 though each computed alone is owed 335万.
    compiled = polc.load(ROOT / 'tests' / 'data' / 'sample.pol')
    src = tmp_path / 'q.csv'
    src.write_text('年销售额,企业类别\n' + ''.join(f'{i * 1000}万元,新增\n' for i in range(1, 13)), encoding='utf-8')
    owed = [35 + min(50 * i, 300) for i in range(1, 13)]
    paid = owed[:10] + [35, 35]
    texts = {}
    for fmt in ('csv', 'jsonl', 'xlsx'):
        for engine, run in (('python', run_batch), ('duckdb', run_duckdb)):
            out = tmp_path / f'{engine}.{fmt}'
            s = run(compiled, str(src), str(out), '2025-06-01')
            assert s.total == sum(owed) * 10000 and s.paid == sum(paid) * 10000     # 3270万 and 2670万
            texts[(engine, fmt)] = out.read_bytes()
        if fmt != 'xlsx':
            assert texts[('python', fmt)] == texts[('duckdb', fmt)], fmt    # byte for byte
    rows = _read_csv(tmp_path / 'duckdb.csv')
    assert list(rows[0])[-3:] == ['使用算力券.金额', '应得合计（削减前）', '实发合计']
    assert '合计' not in rows[0]
    assert [r['应得合计（削减前）'] for r in rows] == [f'{v * 10000}.00' for v in owed]
    assert [r['实发合计'] for r in rows] == [f'{v * 10000}.00' for v in paid]
    from polc.compiler.tables.excel import read_excel
    for engine in ('python', 'duckdb'):
        sheet = [r for _n, r in read_excel(str(tmp_path / f'{engine}.xlsx'))]
        assert [Decimal(r['实发合计']) for r in sheet] == [Decimal(v * 10000) for v in paid], engine
    # Parquet (DuckDB keeps DECIMAL types): the same numbers
    pq = pytest.importorskip('pyarrow.parquet')
    for engine, run in (('python', run_batch), ('duckdb', run_duckdb)):
        run(compiled, str(src), str(tmp_path / f'{engine}.parquet'), '2025-06-01')
        t = pq.read_table(tmp_path / f'{engine}.parquet').to_pydict()
        assert [Decimal(str(v)) for v in t['实发合计']] == [Decimal(v * 10000) for v in paid], engine
        assert t['行号'][-1] in (12, '12')


def test_a_policy_without_quotas_keeps_its_one_total_column(tmp_path):
    # sample.pol without its 每年名额 line: no quota, no pool
    text = (ROOT / 'tests' / 'data' / 'sample.pol').read_text(encoding='utf-8').replace('    每年名额：10\n', '')
    assert '每年名额' not in text and '每年总额' not in text
    pol = tmp_path / 'plain.pol'
    pol.write_text(text, encoding='utf-8')
    compiled = polc.load(pol)
    src = tmp_path / 'q.csv'
    src.write_text('年销售额,企业类别\n2000万元,新增\n', encoding='utf-8')
    for engine, run in (('python', run_batch), ('duckdb', run_duckdb)):
        run(compiled, str(src), str(tmp_path / f'{engine}.csv'), '2025-06-01')
        header = (tmp_path / f'{engine}.csv').read_text(encoding='utf-8').splitlines()[0].split(',')
        assert header[-2:] == ['使用算力券.金额', '合计'] and '实发合计' not in header
        assert _read_csv(tmp_path / f'{engine}.csv')[0]['合计'] == '1350000.00'    # 35万 + 100万
