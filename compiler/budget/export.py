"""The report's summary tables for a spreadsheet (``polc report --export``): one Excel workbook
(a sheet per table) or a folder of CSV files (one per table, UTF-8 with a BOM so Excel opens
Chinese correctly).  Amounts are exact 元 to the fen (columns named …（元）); in the workbook they
are numbers with a #,##0.00 format (exact: compiler/tables/excel.py), in CSV plain decimal text.
Every file is written whole or not at all (temporary file, then rename)."""
from __future__ import annotations

import csv
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from polc.compiler.budget.aggregate import Report, ReportError

FEN = Decimal('0.01')


def _yuan(v) -> Decimal:
    return Decimal(v).quantize(FEN)


def summary_tables(rep: Report) -> list[tuple[str, list[str], list[list]]]:
    """(name, columns, rows) of every summary table of the report, amounts in exact 元."""
    tables = [('概要', ['项目', '数值'], [
        ['政策', rep.policy], ['评估日期', rep.date], ['申请人数', rep.applicants],
        ['应发合计（元）', _yuan(rep.after_cuts)], ['申请额合计（元）', _yuan(rep.total)],
        ['名额与资金池削减（元）', _yuan(rep.total - rep.after_cuts)], ['最高可获合计（元）', _yuan(rep.ceiling_total)]]
        + ([['获奖申请人', rep.recipients[0]]] + [[f'获奖{k}', n] for k, n in rep.recipients[1]]
           if rep.recipients else [])),
        ('各项', ['序号', '条款', '项', '类别', '牵头单位', '责任单位', '获得人数', '申请额（元）', '分配后（元）',
                  '上限（元）', '达到上限', '最高可获人数', '最高可获合计（元）', '不适用'],
         [[k, i.clause, i.name, i.kind, '、'.join(i.lead), '、'.join(i.units), i.recipients, _yuan(i.total),
           _yuan(i.after_cuts), '' if i.cap is None else _yuan(i.cap), '' if i.at_cap is None else i.at_cap,
           i.ceilings, _yuan(i.ceiling_total), i.not_applicable]
          for k, i in enumerate(rep.items, start=1)])]
    for title, rows in rep.breakdowns:
        tables.append((f'按{title}', [title, '项数', '申请额（元）', '分配后（元）'],
                       [[name, n, _yuan(b), _yuan(a)] for name, n, b, a in rows]))
    tables.append(('名额与资金池', ['项', '每年名额', '每年总额（元）', '分配规则', '申请', '获得', '申请额（元）',
                                 '分配合计（元）', '被削减'],
                   [[s.name, '' if s.quota is None else s.quota, '' if s.pool is None else _yuan(s.pool), s.rule,
                     s.shared.claims, s.shared.recipients, _yuan(s.shared.claimed), _yuan(s.shared.granted),
                     s.shared.cut] for s in rep.shared]))
    tables.append(('金额分布', ['应得合计', '人数'], [[label, n] for label, n in rep.histogram]))
    tables.append(('应得最多', ['行号'] + ([rep.id_column] if rep.id_column else [])
                   + ['应得合计（元）', '金额最大的项', '该项金额（元）'],
                   [[r] + ([i or ''] if rep.id_column else []) + [_yuan(t), n, _yuan(a)]
                    for r, i, t, n, a in rep.top]))
    return tables


def export_tables(rep: Report, path: str) -> list[str]:
    """Write the summary tables to ``path`` (.xlsx: one workbook; otherwise a folder of CSV files,
    made if it does not exist).  Returns the files written."""
    tables = summary_tables(rep)
    target = Path(path)
    if target.suffix.lower() == '.xlsx':
        from polc.compiler.tables.excel import ExcelError, ExcelWriter
        if not target.resolve().parent.is_dir():
            raise ReportError(f'{path}：目录不存在，无法写入')
        name, cols, rows = tables[0]
        try:
            w = ExcelWriter(str(target), cols, name)
            try:
                for k, (name, cols, rows) in enumerate(tables):
                    if k:
                        w.add_sheet(name, cols)
                    for r in rows:
                        w.write_cells(r)
            except BaseException:
                w.abort()
                raise
            w.close()
        except ExcelError as exc:
            raise ReportError(str(exc)) from None
        return [str(target)]
    if target.suffix:
        raise ReportError(f'{path}：--export 应为 .xlsx 文件或一个目录（每张表一个 CSV）')
    if target.exists() and not target.is_dir():
        raise ReportError(f'{path}：已存在且不是目录')
    if not target.resolve().parent.is_dir():
        raise ReportError(f'{path}：上级目录不存在，无法写入')
    target.mkdir(exist_ok=True)
    written = []
    for name, cols, rows in tables:
        out = target / f'{name}.csv'
        fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', suffix='.csv', dir=str(target))
        try:
            with os.fdopen(fd, 'w', newline='', encoding='utf-8-sig') as f:
                w = csv.writer(f, lineterminator='\n')
                w.writerow(cols)
                for r in rows:
                    w.writerow([f'{v:f}' if isinstance(v, Decimal) else v for v in r])
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(str(out))
    return written
