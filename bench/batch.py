"""Batch benchmarks (issue: whole tables of firms), run by bench/run.py or alone:

    python bench/batch.py [--rows N]

1. DuckDB path: a Parquet file of N generated applicants → a Parquet file of results, for
   bench/clauses.pol against a hand-written DuckDB query of the same clauses
   (bench/handwritten.sql), alternating runs, medians, ratio; and for each whole seed policy.
   Each run is a fresh process, so its peak memory (RSS) is its own.
2. Per-row streaming path: CSV in, CSV out.
Exactness: the hand-written query and polc's give identical results (checked on every row).
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_H = 'hash(i * 97 + {k})'


def _gen_sql(inputs: dict, n: int) -> str:
    """Deterministic typed applicants generated inside DuckDB (hash of the row number)."""
    cols = []
    for k, (name, (kind, values, _d, _desc)) in enumerate(inputs.items()):
        h = _H.format(k=k)
        q = '"' + name.replace('"', '""') + '"'
        if kind == 'money':
            # spread over orders of magnitude: 0 … 10^(2..10) 元, exact to the fen
            expr = (f'CAST(({h} % CAST(pow(10, 4 + ({h} >> 20) % 9) AS UBIGINT)) AS DECIMAL(20, 0)) '
                    f'* CAST(0.01 AS DECIMAL(3, 2))')
            cols.append(f'CAST({expr} AS DECIMAL(20, 2)) AS {q}')
        elif kind == 'percent':
            cols.append(f'CAST(CAST(({h} % 7000) AS DECIMAL(10, 0)) * CAST(0.0001 AS DECIMAL(5, 4)) - 0.2 '
                        f'AS DECIMAL(12, 6)) AS {q}')
        elif kind == 'int':
            cols.append(f'CAST({h} % 5 AS BIGINT) AS {q}')
        elif kind == 'bool':
            cols.append(f'({h} % 2 = 0) AS {q}')
        elif kind == 'date':
            cols.append(f"(DATE '2023-01-01' + CAST({h} % 1500 AS INTEGER)) AS {q}")
        else:
            listed = ', '.join("'" + v.replace("'", "''") + "'" for v in values)
            cols.append(f'([{listed}])[1 + CAST({h} % {len(values)} AS INTEGER)] AS {q}')
    return f'SELECT {", ".join(cols)} FROM range(1, {n + 1}) t(i)'


def make_table(policy: Path, n: int, path: Path) -> None:
    import duckdb
    import polc
    compiled = polc.load(policy)
    con = duckdb.connect()
    con.execute(f"COPY ({_gen_sql(compiled.inputs, n)}) TO '{path}' (FORMAT PARQUET)")


# each job runs in a fresh interpreter and prints {"seconds": …, "rss_mb": …}
_JOB = r'''
import json, sys, time
sys.path.insert(0, {here!r})
kind, policy, src, out = {args!r}
t = time.perf_counter()
if kind == 'polc-duckdb':
    import polc
    from polc.compiler.sql.engine import run_duckdb
    s = run_duckdb(polc.load(policy), src, out, '2025-06-01')
    rows = s.written
elif kind == 'hand-duckdb':
    import duckdb
    sql = open({hand!r}, encoding='utf-8').read().replace('$SRC', src)
    con = duckdb.connect()
    con.execute(f"COPY ({{sql}}) TO '{{out}}' (FORMAT PARQUET)")
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{{out}}')").fetchone()[0]
else:
    import polc
    from polc.compiler.tables.rowwise import run_batch
    s = run_batch(polc.load(policy), src, out, '2025-06-01')
    rows = s.written
secs = time.perf_counter() - t
# VmHWM: this process's own peak RSS (ru_maxrss would also count the parent's, kept across exec)
hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))
print(json.dumps({{'seconds': secs, 'rows': rows, 'rss_mb': hwm / 1024}}))
'''


def _job(kind, policy, src, out) -> dict:
    code = _JOB.format(here=str(HERE), args=(kind, str(policy), str(src), str(out)),
                       hand=str(HERE / 'handwritten.sql'))
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def _median_job(kind, policy, src, out, runs):
    results = [_job(kind, policy, src, out) for _ in range(runs)]
    return {'seconds': statistics.median(r['seconds'] for r in results), 'rows': results[0]['rows'],
            'rss_mb': max(r['rss_mb'] for r in results)}


def bench_batch(n: int, per_row_n: int, runs: int) -> dict:
    import duckdb
    import polc  # noqa: F401
    out = {'rows': n, 'per_row_rows': per_row_n}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clauses = HERE / 'clauses.pol'
        src = tmp / 'in.parquet'
        make_table(clauses, n, src)
        polc_t, hand_t = [], []
        for _ in range(runs):                           # alternating
            polc_t.append(_job('polc-duckdb', clauses, src, tmp / 'polc.parquet'))
            hand_t.append(_job('hand-duckdb', clauses, src, tmp / 'hand.parquet'))
        out['clauses'] = {
            'polc_seconds': statistics.median(r['seconds'] for r in polc_t),
            'hand_seconds': statistics.median(r['seconds'] for r in hand_t),
            'polc_rss_mb': max(r['rss_mb'] for r in polc_t), 'hand_rss_mb': max(r['rss_mb'] for r in hand_t),
            'identical': _identical(tmp / 'polc.parquet', tmp / 'hand.parquet'),
        }
        out['clauses']['ratio'] = out['clauses']['polc_seconds'] / out['clauses']['hand_seconds']
        out['policies'] = {}
        for pol in sorted((ROOT / 'policies').glob('*.pol')):
            src = tmp / f'{pol.stem}.parquet'
            make_table(pol, n, src)
            r = _median_job('polc-duckdb', pol, src, tmp / f'{pol.stem}-out.parquet', runs)
            r['per_second'] = r['rows'] / r['seconds']
            out['policies'][pol.stem] = r
        # per-row streaming from CSV
        pol = ROOT / 'policies' / 'zhangzhou.pol'
        csv_src = tmp / 'in.csv'
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM read_parquet('{tmp / 'zhangzhou.parquet'}') "
                    f"LIMIT {per_row_n}) TO '{csv_src}' (FORMAT CSV, HEADER)")
        r = _median_job('per-row', pol, csv_src, tmp / 'per-row.csv', max(1, runs // 2))
        r['per_second'] = r['rows'] / r['seconds']
        out['per_row'] = r
    return out


def _identical(polc_out: Path, hand_out: Path) -> bool:
    """Every row: each item's outcome and amount and the total, polc vs hand-written SQL."""
    import duckdb
    con = duckdb.connect()
    cols = [d[0] for d in con.execute(f"SELECT * FROM read_parquet('{hand_out}') LIMIT 0").description]
    sel = ', '.join('"' + c + '"' for c in cols)
    diff = con.execute(f"SELECT count(*) FROM ((SELECT {sel} FROM read_parquet('{polc_out}') EXCEPT ALL "
                       f"SELECT {sel} FROM read_parquet('{hand_out}')) UNION ALL (SELECT {sel} FROM "
                       f"read_parquet('{hand_out}') EXCEPT ALL SELECT {sel} FROM read_parquet('{polc_out}')))"
                       ).fetchone()[0]
    return diff == 0


def table(b: dict) -> str:
    c = b['clauses']
    lines = ['### 批量：整表计算（Parquet 进，Parquet 出；每次运行是一个新进程）', '',
             f'{b["rows"]:,} 个生成的申请人（确定性生成，金额跨多个数量级）。', '',
             '| 实现 | 秒（中位数） | 每秒申请人 | 峰值内存 MB（RSS） | 相对手写 SQL |', '|---|---|---|---|---|',
             f'| 手写 DuckDB 查询（bench/handwritten.sql，基准条款） | {c["hand_seconds"]:.2f} | '
             f'{b["rows"] / c["hand_seconds"]:,.0f} | {c["hand_rss_mb"]:.0f} | 1.00 |',
             f'| polc `--engine duckdb`（bench/clauses.pol，含读表、事实检查、写结果、合计） | {c["polc_seconds"]:.2f} | '
             f'{b["rows"] / c["polc_seconds"]:,.0f} | {c["polc_rss_mb"]:.0f} | {c["ratio"]:.2f} |', '',
             f'polc 与手写查询的结果逐行逐项{"完全相同（已核对）" if c["identical"] else "**不同**"}。', '',
             '| 整项种子政策（polc `--engine duckdb`） | 秒 | 每秒申请人 | 峰值内存 MB |', '|---|---|---|---|']
    for name, r in b['policies'].items():
        lines.append(f'| {name} | {r["seconds"]:.2f} | {r["per_second"]:,.0f} | {r["rss_mb"]:.0f} |')
    r = b['per_row']
    lines += ['', f'逐行流式计算（`polc eval --facts in.csv --out out.csv`，漳州，{r["rows"]:,} 行）：'
              f'{r["seconds"]:.2f} 秒，每秒 {r["per_second"]:,.0f} 行，峰值内存 {r["rss_mb"]:.0f} MB。', '']
    return '\n'.join(lines)


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('--rows', type=int, default=1_000_000)
    ap.add_argument('--per-row', type=int, default=200_000)
    ap.add_argument('--runs', type=int, default=3)
    a = ap.parse_args()
    res = bench_batch(a.rows, a.per_row, a.runs)
    print(table(res))
    print(json.dumps(res, ensure_ascii=False, indent=1))
