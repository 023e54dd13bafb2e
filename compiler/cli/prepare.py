"""``polc prepare``: raw facts → the typed Parquet facts table that ``polc sql``'s query reads."""
from __future__ import annotations

import sys

import click

from polc.compiler.cli.common import EXIT_USAGE, echo_err, load_or_exit


@click.command()
@click.argument('file')
@click.option('--facts', 'facts_path', required=True, help='申请人表格：.csv、.jsonl 或 .parquet')
@click.option('--out', 'out_path', required=True, help='已分类型的事实表（.parquet），供 polc sql 的查询读取')
@click.option('--id-column', default=None, help='申请人编号所在的列（原样保留为文本列）')
@click.option('--skip-bad', is_flag=True, help='跳过有错误的行（默认遇到第一行错误即停止）')
@click.option('--rejects', 'rejects_path', default=None, help='与 --skip-bad 同用：被跳过的行及原因写到此 .jsonl 文件')
def prepare(file, facts_path, out_path, id_column, skip_bad, rejects_path):
    """把申请人表格检查并转换为已分类型的 Parquet 事实表（含「行号」），供 polc sql 在 Spark 等引擎上运行。"""
    from polc.compiler.tables.io import BatchError
    from polc.compiler.sql.prepare import prepare_facts
    compiled = load_or_exit(file)
    try:
        summary = prepare_facts(compiled, facts_path, out_path, id_column, skip_bad, rejects_path)
    except BatchError as exc:
        echo_err(f'错误[{exc.code}]: {exc}')
        sys.exit(EXIT_USAGE)
    click.echo(f'写入 {out_path}：{summary.written} 行'
               + (f'；跳过有错误的行 {summary.rejected} 行' if summary.rejected else ''))
