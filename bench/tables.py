"""Bureau tables benchmark (issue 16), run by bench/run.py or alone:

    python bench/tables.py [--rows N] [--excel-rows N] [--runs R] [--policies xiamen,zhangzhou]
    POLC_LONG=1 python bench/tables.py        # 1,000,000 rows, one run

The tables a 财政局 receives: generated applicants of whole seed policies with money written as
text the ways people write it ("199581萬元", "1,234,567.89", full-width digits and separators, plain
元, empty cells for inputs with a default).  One run measures, each job in a fresh process,
alternating, medians, for each policy:
1. `polc eval --out` on the text CSV: the table engine (DuckDB, the default) against the per-row
   engine — rows/s of each and the ratio;
2. the same applicants as typed Parquet (DECIMAL, BIGINT, BOOLEAN … columns, as `polc prepare`
   writes them) into Parquet: applicants/s of
   each engine and the ratio, in the ordinary layout and with `--compact` (outcome codes, 64-bit
   amounts where the policy's caps allow);
and for the first policy 3. the first rows as an Excel workbook (.xlsx), and 4. `polc report` on
the text CSV with each engine.  Both engines' results are checked byte-identical on every CSV table.
"""
from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLICY = ROOT / 'policies' / 'xiamen.pol'
FW = str.maketrans('0123456789,.', '０１２３４５６７８９，．')


def spell(v: Decimal, k: int) -> str:
    """An amount in 元 written one of five ways, chosen by ``k`` (deterministic)."""
    choice = k % 5
    if choice == 0 and v % 100 == 0:
        return f'{(v / 10000).normalize():f}萬元'
    if choice == 1:
        return f'{v:,}'
    if choice == 2:
        return f'{v:,}'.translate(FW) + '元'
    if choice == 3:
        return f'{v}元'
    return f'{v}'


def make_text_tables(n: int, csv_path: Path, xlsx_path: Path = None, xlsx_rows: int = 0,
                     policy: Path = POLICY, parquet_path: Path = None) -> None:
    """``n`` generated applicants of ``policy`` (bench/batch.py's generator) with money spelled as
    text, written in batches (memory does not grow with ``n``); the same applicants typed in
    ``parquet_path``.  Every 7th cell of an input with a default is left empty."""
    import duckdb
    import polc
    sys.path.insert(0, str(HERE))
    import batch
    compiled = polc.load(policy)
    money = {name for name, (kind, *_r) in compiled.inputs.items() if kind == 'money'}
    defaults = {name for name, (_k, _v, default, _d) in compiled.inputs.items() if default is not None}
    con = duckdb.connect()
    if parquet_path is not None:
        con.execute(f"COPY ({batch._gen_sql(compiled.inputs, n)}) TO '{parquet_path}' (FORMAT PARQUET)")
    cur = con.execute(batch._gen_sql(compiled.inputs, n))
    cols = [d[0] for d in cur.description]
    book = sheet = None
    if xlsx_path is not None:
        import xlsxwriter
        book = xlsxwriter.Workbook(str(xlsx_path), {'constant_memory': True})
        sheet = book.add_worksheet('申请')
        sheet.write_row(0, 0, cols)
    i = 0
    with open(csv_path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(cols)
        while True:
            chunk = cur.fetchmany(50_000)
            if not chunk:
                break
            rows = []
            for r in chunk:
                out = []
                for j, (c, v) in enumerate(zip(cols, r)):
                    if v is None or (c in defaults and (i + 3 * j) % 7 == 0):
                        out.append('')
                    elif c in money:
                        out.append(spell(Decimal(v), i + j))
                    elif isinstance(v, bool):
                        out.append('是' if v else '否')
                    else:
                        out.append(str(v))
                rows.append(out)
                i += 1
                if sheet is not None and i <= xlsx_rows:
                    for k, v in enumerate(out):
                        if v != '':
                            sheet.write_string(i, k, v)
            w.writerows(rows)
    if book is not None:
        book.close()


_JOB = r'''
import json, sys, time
kind, src, out, policy = {args!r}
t = time.perf_counter()
import polc
compiled = polc.load(policy)
if kind.split('+')[0] in ('python', 'duckdb'):
    from polc.compiler.engines import evaluate_table
    s = evaluate_table(compiled, src, out, '2025-06-01', engine=kind.split('+')[0], compact=kind.endswith('+compact'))
    rows = s.written
else:
    from click.testing import CliRunner
    from polc.compiler.cli import cli
    engine = kind.split('-')[1]
    r = CliRunner().invoke(cli, ['report', policy, '--facts', src, '--out', out, '--date', '2025-06-01',
                                 '--engine', engine])
    assert r.exit_code == 0, r.output
    rows = 0
secs = time.perf_counter() - t
hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))
print(json.dumps({{'seconds': secs, 'rows': rows, 'rss_mb': hwm / 1024}}))
'''


def _job(kind, src, out, policy=POLICY) -> dict:
    code = _JOB.format(args=(kind, str(src), str(out), str(policy)))
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    lines = [line for line in r.stdout.splitlines() if line.startswith('{"seconds"')]
    if not lines:
        raise RuntimeError(f'{kind}: no result in its output: {r.stdout[-2000:]}')
    return json.loads(lines[-1])


def _pair(a, b, src, outs, runs, policy=POLICY, rows=None):
    ta, tb = [], []
    for _ in range(runs):                               # alternating
        ta.append(_job(a, src, outs[0], policy))
        tb.append(_job(b, src, outs[1], policy))
    sa = statistics.median(r['seconds'] for r in ta)
    sb = statistics.median(r['seconds'] for r in tb)
    out = {a: sa, b: sb, 'ratio': sa / sb, 'rss_mb': {a: max(r['rss_mb'] for r in ta),
                                                     b: max(r['rss_mb'] for r in tb)}}
    if rows:
        out['per_second'] = {a: rows / sa, b: rows / sb}
    return out


def bench_tables(n: int, excel_rows: int, runs: int, policies=('xiamen', 'zhangzhou')) -> dict:
    out = {'rows': n, 'excel_rows': excel_rows, 'runs': runs, 'policies': {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k, name in enumerate(policies):
            pol = ROOT / 'policies' / f'{name}.pol'
            src, typed = tmp / f'{name}.csv', tmp / f'{name}.parquet'
            book = tmp / f'{name}.xlsx' if k == 0 and excel_rows else None
            make_text_tables(n, src, book, excel_rows, pol, typed)
            r = {'csv': _pair('python', 'duckdb', src, (tmp / 'row.csv', tmp / 'sql.csv'), runs, pol, n)}
            r['identical'] = (tmp / 'row.csv').read_bytes() == (tmp / 'sql.csv').read_bytes()
            r['parquet'] = _pair('python', 'duckdb', typed, (tmp / 'row.parquet', tmp / 'sql.parquet'), runs,
                                 pol, n)
            r['compact'] = _pair('python+compact', 'duckdb+compact', typed,
                                 (tmp / 'row-c.parquet', tmp / 'sql-c.parquet'), runs, pol, n)
            r['compact']['python'], r['compact']['duckdb'] = r['compact']['python+compact'], r['compact']['duckdb+compact']
            r['compact']['per_second'] = {'python': n / r['compact']['python'], 'duckdb': n / r['compact']['duckdb']}
            if book is not None:
                r['xlsx'] = _pair('python', 'duckdb', book, (tmp / 'row-x.csv', tmp / 'sql-x.csv'), runs, pol,
                                  excel_rows)
                r['report'] = _pair('report-python', 'report-duckdb', src, (tmp / 'a.html', tmp / 'b.html'),
                                    runs, pol)
            out['policies'][name] = r
            for f in (src, typed):
                f.unlink()
    return out


def table(b: dict) -> str:
    lines = ['### 局里的表格：金额写成文字（单位、千分位、全角数字、空单元格），与类型化的 Parquet', '',
             f'{b["rows"]:,} 个生成的申请人（整项种子政策），金额写成「199581萬元」「1,234,567.89」「１，２３４．５元」'
             f'「3000元」或普通数字，有默认值的输入每 7 格空一格；同一批申请人另存为类型化的 Parquet（DECIMAL、BIGINT、BOOLEAN 等列，如 `polc prepare` 写出的表）。'
             f'每次运行是一个新进程（含启动与载入政策），交替运行 {b["runs"]} 次取中位数。', '',
             '| 政策 | 表格 | 逐行引擎 秒 | 每秒行数 | 表格引擎（DuckDB）秒 | 每秒行数 | 表格引擎 ÷ 逐行（倍） |',
             '|---|---|---|---|---|---|---|']
    for name, r in b['policies'].items():
        for key, label in (('csv', '文字 CSV → CSV'), ('parquet', '类型化 Parquet → Parquet'),
                           ('compact', '类型化 Parquet → Parquet，`--compact`'),
                           ('xlsx', f'Excel（前 {b["excel_rows"]:,} 行）→ CSV')):
            if key in r:
                e = r[key]
                lines.append(f'| {name} | {label} | {e["python"]:.2f} | {e["per_second"]["python"]:,.0f} | '
                             f'{e["duckdb"]:.2f} | {e["per_second"]["duckdb"]:,.0f} | **{e["ratio"]:.2f}** |')
        if 'report' in r:
            e = r['report']
            lines.append(f'| {name} | `polc report`，文字 CSV | {e["report-python"]:.2f} | | '
                         f'{e["report-duckdb"]:.2f} | | **{e["ratio"]:.2f}** |')
    lines += ['', '两个引擎在文字 CSV 上的结果文件：' + '；'.join(
        f'{name} {"逐字节相同（已核对）" if r["identical"] else "**不同**"}' for name, r in b['policies'].items())
        + '。比值大于 1 表示表格引擎更快。', '']
    return '\n'.join(lines)


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser()
    long = os.environ.get('POLC_LONG') == '1'
    ap.add_argument('--rows', type=int, default=1_000_000 if long else 100_000)
    ap.add_argument('--excel-rows', type=int, default=0 if long else 20_000)
    ap.add_argument('--runs', type=int, default=1 if long else 3)
    ap.add_argument('--policies', default='xiamen,zhangzhou')
    a = ap.parse_args()
    res = bench_tables(a.rows, a.excel_rows, a.runs, tuple(a.policies.split(',')))
    print(table(res))
    print(json.dumps(res, ensure_ascii=False, indent=1))
