"""Outputs written whole or not at all, never onto an input; inputs read bounded, regular files only
(issue 13: data loss, crashes and hangs).  The mechanisms are in polc/dsl/files.py."""
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st, HealthCheck

from polc.compiler.cli import cli
from polc.dsl import files as F

ROOT = Path(__file__).resolve().parent.parent
POL = ROOT / 'tests' / 'data' / 'sample.pol'
ENGINES = ['python', 'duckdb']
# 攻关算力成本 100万元 → 攻关算力券 (sample.pol); 企业类别 新增 → 35万元
TABLE = '编号,攻关算力成本,企业类别\nA,100万元,新增\nB,1元,其他\n'


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def leftovers(folder: Path):
    return [p.name for p in folder.iterdir() if p.name.endswith(F.TEMP_SUFFIX)]


# ------------------------------------------------------------------ no output may be an input
def _same_forms(tmp_path, src):
    """Other names of the file ``src``: itself, ./ form, dir/../ form, a symlink, a hard link."""
    (tmp_path / 'sub').mkdir(exist_ok=True)
    link = tmp_path / ('link' + src.suffix)
    link.symlink_to(src)
    hard = tmp_path / ('hard' + src.suffix)
    os.link(src, hard)
    return [str(src), str(tmp_path / '.' / src.name), str(tmp_path / 'sub' / '..' / src.name), str(link), str(hard)]


@pytest.mark.parametrize('engine', ENGINES)
@pytest.mark.parametrize('suffix', ['.csv', '.jsonl'])
@pytest.mark.parametrize('option', ['--out', '--rejects', '--allocation'])
def test_an_output_that_is_the_facts_file_is_refused_and_the_input_kept(tmp_path, engine, suffix, option):
    src = tmp_path / ('in' + suffix)
    text = TABLE if suffix == '.csv' else ('{"编号":"A","攻关算力成本":"100万元"}\n')
    src.write_text(text, encoding='utf-8')
    for form in _same_forms(tmp_path, src):
        out = form if option == '--out' else str(tmp_path / 'o.csv')
        extra = [] if option == '--out' else [option, form]
        r = run('eval', POL, '--facts', src, '--out', out, *extra, '--id-column', '编号', '--engine', engine,
                '--date', '2025-06-01')
        assert r.exit_code == 2, r.output
        assert 'E-SAME-FILE' in r.output and form in r.output and str(src) in r.output, r.output
        assert src.read_text(encoding='utf-8') == text
        assert not (tmp_path / 'o.csv').exists()      # refused before any work


@pytest.mark.parametrize('engine', ENGINES)
def test_two_outputs_naming_one_file_are_refused(tmp_path, engine):
    src = tmp_path / 'in.csv'
    src.write_text(TABLE, encoding='utf-8')
    out = tmp_path / 'o.csv'
    out.write_text('earlier\n', encoding='utf-8')
    (tmp_path / 'o-link.csv').symlink_to(out)
    for a, b in (('--rejects', str(out)), ('--allocation', str(tmp_path / 'o-link.csv'))):
        r = run('eval', POL, '--facts', src, '--out', out, a, b, '--id-column', '编号', '--engine', engine)
        assert r.exit_code == 2 and 'E-SAME-FILE' in r.output and a in r.output and '--out' in r.output, r.output
        assert out.read_text(encoding='utf-8') == 'earlier\n'


@pytest.mark.parametrize('command', ['build', 'doc'])
def test_build_and_doc_refuse_to_overwrite_the_policy(tmp_path, command):
    pol = tmp_path / 'p.pol'
    text = POL.read_text(encoding='utf-8')
    pol.write_text(text, encoding='utf-8')
    (tmp_path / 'alias.pol').symlink_to(pol)
    for target in (pol, tmp_path / 'alias.pol', tmp_path / '.' / 'p.pol'):
        r = run(command, pol, '-o', target)
        assert r.exit_code == 2 and 'E-SAME-FILE' in r.output and str(target) in r.output, r.output
        assert pol.read_text(encoding='utf-8') == text


def test_report_refuses_to_write_over_its_facts(tmp_path):
    src = tmp_path / 'in.csv'
    src.write_text(TABLE, encoding='utf-8')
    (tmp_path / 'page.html').symlink_to(src)
    r = run('report', POL, '--facts', src, '--out', tmp_path / 'page.html', '--id-column', '编号')
    assert r.exit_code == 2 and 'E-SAME-FILE' in r.output
    assert src.read_text(encoding='utf-8') == TABLE


# ------------------------------------------------------------------ whole or not at all
@pytest.mark.parametrize('engine', ENGINES)
@pytest.mark.parametrize('suffix', ['.csv', '.jsonl', '.parquet'])
def test_a_bad_row_leaves_the_earlier_results_untouched(tmp_path, engine, suffix):
    good = tmp_path / 'good.csv'
    good.write_text(TABLE, encoding='utf-8')
    out = tmp_path / ('results' + suffix)
    r = run('eval', POL, '--facts', good, '--out', out, '--id-column', '编号', '--engine', engine,
            '--date', '2025-06-01')
    assert r.exit_code == 0, r.output
    before = out.read_bytes()
    bad = tmp_path / 'bad.csv'
    bad.write_text(TABLE + 'C,很多,新增\nD,1元,其他\n', encoding='utf-8')
    r = run('eval', POL, '--facts', bad, '--out', out, '--id-column', '编号', '--engine', engine,
            '--date', '2025-06-01')
    assert r.exit_code == 2 and '第 3 行' in r.output
    assert out.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize('engine', ENGINES)
@pytest.mark.parametrize('earlier', [True, False])
def test_the_outputs_of_one_run_are_renamed_as_a_set(tmp_path, monkeypatch, engine, earlier):
    """--out, --rejects and --allocation all written, then the rename of the second fails (after the
    first is in place): the first is put back — its earlier file, or no file where there was none —
    so the three outputs are never a mix of two runs; no temporary file is left."""
    src = tmp_path / 'in.csv'
    src.write_text(TABLE, encoding='utf-8')
    outs = {opt: tmp_path / name for opt, name in (('--out', 'o.csv'), ('--rejects', 'r.jsonl'),
                                                   ('--allocation', 'a.csv'))}
    if earlier:
        for opt, p in outs.items():
            p.write_text(f'earlier {opt}\n', encoding='utf-8')
    real_replace, calls = os.replace, []

    def second_fails(a, b):
        if os.path.dirname(str(b)) != str(tmp_path):     # polc's own cache, not an output
            return real_replace(a, b)
        calls.append((str(a), str(b)))
        if len(calls) == 2:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_replace(a, b)

    monkeypatch.setattr(os, 'replace', second_fails)
    args = [a for opt, p in outs.items() for a in (opt, p)]
    r = run('eval', POL, '--facts', src, *args, '--skip-bad', '--id-column', '编号', '--date', '2025-06-01',
            '--engine', engine)
    monkeypatch.undo()
    assert r.exit_code == 2 and 'E-IO' in r.output, r.output
    assert calls[0][1] == str(outs['--out'])         # the first output had been renamed into place
    for opt, p in outs.items():
        if earlier:
            assert p.read_text(encoding='utf-8') == f'earlier {opt}\n', opt
        else:
            assert not p.exists(), opt
    assert leftovers(tmp_path) == []
    # and without the failure the set is written (the earlier files replaced)
    r = run('eval', POL, '--facts', src, *args, '--skip-bad', '--id-column', '编号', '--date', '2025-06-01',
            '--engine', engine)
    assert r.exit_code == 0, r.output
    assert outs['--out'].read_text(encoding='utf-8').startswith('行号,编号,')
    assert leftovers(tmp_path) == []


def test_a_full_disk_while_writing_rows_leaves_no_partial_file(tmp_path, monkeypatch):
    """ENOSPC raised by the 2nd row written (as a full disk would): the message names the output,
    the earlier results stay, no temporary file is left."""
    from polc.compiler.tables import io
    src = tmp_path / 'in.csv'
    src.write_text(TABLE, encoding='utf-8')
    out = tmp_path / 'o.csv'
    out.write_text('earlier results\n', encoding='utf-8')
    real_init = io.Writer.__init__

    class FullDisk:
        def __init__(self, f):
            self.f, self.calls = f, 0

        def write(self, text):
            self.calls += 1
            if self.calls == 3:             # header, row 1, then the disk is full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.f.write(text)

    def init(self, path, columns, dest=None, types=None):
        real_init(self, path, columns, dest, types)
        import csv
        self.csv = csv.writer(FullDisk(self.f), lineterminator='\n')
        self.csv.writerow(columns)

    monkeypatch.setattr(io.Writer, '__init__', init)
    # the per-row engine's writer (the default engine, DuckDB, writes CSV itself)
    r = run('eval', POL, '--facts', src, '--out', out, '--id-column', '编号', '--date', '2025-06-01',
            '--engine', 'python')
    assert r.exit_code == 2 and 'E-IO' in r.output and str(out) in r.output and '无法写入' in r.output
    assert str(src) not in r.output                 # the input is not blamed
    assert out.read_text(encoding='utf-8') == 'earlier results\n'
    assert leftovers(tmp_path) == []


def test_duckdb_names_the_output_when_it_cannot_write(tmp_path, monkeypatch):
    """DuckDB's COPY fails (its file cannot be written): the output is named, not the input."""
    src = tmp_path / 'in.csv'
    src.write_text(TABLE, encoding='utf-8')
    out = tmp_path / 'o.csv'
    out.write_text('earlier results\n', encoding='utf-8')
    real = F.Outputs.temp

    def unwritable(self, path):
        temp = real(self, path)
        os.unlink(temp)
        os.mkdir(temp)                 # DuckDB cannot write a file where a folder is
        self._pending[-1] = (self._pending[-1][0], self._pending[-1][1], temp + '/x')
        return temp

    monkeypatch.setattr(F.Outputs, 'temp', unwritable)
    r = run('eval', POL, '--facts', src, '--out', out, '--id-column', '编号', '--engine', 'duckdb',
            '--date', '2025-06-01')
    assert r.exit_code == 2 and 'E-IO' in r.output and f'{out}：无法写入' in r.output, r.output
    assert out.read_text(encoding='utf-8') == 'earlier results\n'


def test_build_that_fails_to_write_leaves_the_earlier_module(tmp_path, monkeypatch):
    target = tmp_path / 'mod.py'
    target.write_text('# earlier module\n', encoding='utf-8')
    real_fsync = os.fsync

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, 'fsync', no_space)
    r = run('build', POL, '-o', target)
    monkeypatch.setattr(os, 'fsync', real_fsync)
    assert r.exit_code == 2 and 'E-IO' in r.output and str(target) in r.output
    assert target.read_text(encoding='utf-8') == '# earlier module\n'
    assert leftovers(tmp_path) == []


# property: whatever step of writing fails, the target holds the old or the whole new content
STEPS = ['write', 'fsync', 'chmod', 'replace', None]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=st.one_of(st.none(), st.binary(max_size=300)), new=st.binary(max_size=3000),
       step=st.sampled_from(STEPS), at=st.integers(0, 3000))
def test_property_a_failed_write_leaves_old_or_new_content(tmp_path_factory, old, new, step, at):
    folder = tmp_path_factory.mktemp('w')
    target = folder / 'out.bin'
    if old is not None:
        target.write_bytes(old)
    failing = {}

    class Boom(OSError):
        pass

    def fail(*_a, **_k):
        raise Boom(errno.ENOSPC, 'No space left on device')

    real_open = open

    def chunked_write():
        with F.Outputs() as outs:
            temp = outs.temp(str(target))
            with real_open(temp, 'wb') as f:
                for i in range(0, max(len(new), 1), 100):
                    if step == 'write' and i >= at:
                        fail()
                    f.write(new[i:i + 100])

    patches = {'fsync': os.fsync, 'chmod': os.chmod, 'replace': os.replace}
    try:
        if step in patches:
            setattr(os, step, fail)
        try:
            chunked_write()
            ok = True
        except (Boom, F.FileProblem):
            ok = False
    finally:
        for name, fn in patches.items():
            setattr(os, name, fn)
    now = target.read_bytes() if target.exists() else None
    if ok:
        assert now == new
    else:
        assert now == old
    assert leftovers(folder) == []


# ------------------------------------------------------------------ identity, property
NAMES = st.text(alphabet='abc政策x_', min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, other=NAMES, form=st.sampled_from(['same', 'dot', 'parent', 'symlink', 'chain', 'hard']))
def test_property_any_two_names_of_one_file_are_refused(tmp_path_factory, name, other, form):
    d = tmp_path_factory.mktemp('id')
    (d / 'sub').mkdir()
    src = d / (name + '.csv')
    src.write_text('x\n', encoding='utf-8')
    alias = {'same': lambda: str(src), 'dot': lambda: str(d / '.' / src.name),
             'parent': lambda: str(d / 'sub' / '..' / src.name)}
    if form in alias:
        path = alias[form]()
    else:
        link = d / ('L' + other + '.csv')
        if form == 'symlink':
            link.symlink_to(src)
        elif form == 'chain':
            (d / 'mid.csv').symlink_to(src)
            link.symlink_to(d / 'mid.csv')
        else:
            os.link(src, link)
        path = str(link)
    with pytest.raises(F.PathClash):
        F.check_distinct([('--facts', str(src))], [('--out', path)])
    with pytest.raises(F.PathClash):
        F.check_distinct([], [('--out', str(src)), ('--rejects', path)])
    distinct = d / ('D' + other + '.csv')           # a different file (existing or not) passes
    F.check_distinct([('--facts', str(src))], [('--out', str(distinct))])
    distinct.write_text('x\n', encoding='utf-8')
    F.check_distinct([('--facts', str(src))], [('--out', str(distinct))])


# ------------------------------------------------------------------ bounded reading
def _polc(*args, timeout=60, env=None):
    return subprocess.run([sys.executable, '-c', 'from polc.compiler.cli import main; main()', *map(str, args)],
                          capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_devices_are_refused_not_read():
    r = _polc('check', '/dev/zero')
    assert r.returncode == 2 and '字符设备' in r.stderr
    r = _polc('eval', POL, '--facts', '/dev/zero')
    assert r.returncode == 2 and '字符设备' in r.stderr


@pytest.mark.parametrize('engine', ENGINES)
def test_a_fifo_is_refused_without_hanging(tmp_path, engine):
    fifo = tmp_path / 'pipe.csv'
    os.mkfifo(fifo)
    plain = tmp_path / 'pipe.pol'
    os.mkfifo(plain)
    r = _polc('check', plain)             # timeout=60: a hang fails the test
    assert r.returncode == 2 and '命名管道' in r.stderr
    r = _polc('eval', POL, '--facts', plain)
    assert r.returncode == 2 and '命名管道' in r.stderr
    r = _polc('eval', POL, '--facts', fifo, '--out', tmp_path / 'o.csv', '--engine', engine)
    assert r.returncode == 2 and '命名管道' in r.stderr


def test_the_size_limit_is_enforced_and_can_be_changed(tmp_path):
    facts = tmp_path / 'f.json'
    facts.write_text('{"攻关算力成本": "100万元"}' + ' ' * 2000, encoding='utf-8')
    env = {'POLC_MAX_INPUT_BYTES': '1000'}
    r = run('eval', POL, '--facts', facts, '--date', '2025-06-01', env=env)
    assert r.exit_code == 2 and '文件过大' in r.output and 'POLC_MAX_INPUT_BYTES' in r.output
    r = run('check', POL, env=env)
    assert r.exit_code == 2 and '文件过大' in r.output
    r = run('eval', POL, '--facts', facts, '--date', '2025-06-01', env={'POLC_MAX_INPUT_BYTES': '100000'})
    assert r.exit_code == 0, r.output
    r = run('check', POL, env={'POLC_MAX_INPUT_BYTES': 'lots'})
    assert r.exit_code == 2 and 'POLC_MAX_INPUT_BYTES' in r.output


def test_a_table_line_over_the_limit_is_refused(tmp_path):
    src = tmp_path / 'in.jsonl'
    src.write_text('{"攻关算力成本": "1元"}\n{"x": "' + 'a' * 5000 + '"}\n', encoding='utf-8')
    r = run('eval', POL, '--facts', src, '--out', tmp_path / 'o.csv', env={'POLC_MAX_INPUT_BYTES': '4000'})
    assert r.exit_code == 2 and '第 2 行' in r.output and '上限' in r.output


# ------------------------------------------------------------------ options checked up front
@pytest.mark.parametrize('engine', ENGINES)
@pytest.mark.parametrize('column', ['合计', '行号', '攻关算力券.金额', '新增企业奖励.结果', '',
                                    '应得合计（削减前）', '实发合计'])
def test_an_id_column_named_like_an_output_column_is_refused(tmp_path, engine, column):
    src = tmp_path / 'in.csv'
    src.write_text(TABLE.replace('编号', column or '编号'), encoding='utf-8')
    out = tmp_path / 'o.csv'
    r = run('eval', POL, '--facts', src, '--out', out, '--id-column', column, '--engine', engine)
    assert r.exit_code == 2 and 'E-USAGE' in r.output and '--id-column' in r.output, r.output
    assert not out.exists()


@pytest.mark.parametrize('engine', ENGINES)
def test_an_id_column_that_is_an_input_is_refused(tmp_path, engine):
    src = tmp_path / 'in.csv'
    src.write_text(TABLE, encoding='utf-8')
    r = run('eval', POL, '--facts', src, '--out', tmp_path / 'o.csv', '--id-column', '企业类别', '--engine', engine)
    assert r.exit_code == 2 and '是政策的输入' in r.output


@pytest.mark.parametrize('table, words', [('', '不能为空'), ('x; DROP TABLE y; --', '不是普通的表名'),
                                          ('a b', '不是普通的表名'), ('1facts', '不是普通的表名'),
                                          ('select', '保留字'), ('ods.order', '保留字'), ('"q"', '不是普通的表名')])
def test_sql_table_must_be_a_plain_identifier(table, words):
    r = run('sql', POL, '--table', table, '--date', '2025-06-01')
    assert r.exit_code == 2 and words in r.output and 'DROP' not in r.output.split('：', 1)[-1].replace(table, '')


@pytest.mark.parametrize('table', ['facts', 'ods.申请表', '企业_2025'])
def test_sql_table_accepts_plain_names(table):
    r = run('sql', POL, '--table', table, '--date', '2025-06-01')
    assert r.exit_code == 0 and f'FROM {table}' in r.output


def test_a_bad_date_is_blamed_on_date_not_the_facts(tmp_path):
    facts = ROOT / 'tests' / 'data' / 'sample_facts.json'
    for args in (['eval', POL, '--facts', facts], ['explain', POL, '--facts', facts, '攻关算力券'],
                 ['eval', POL, '--facts', facts, '--out', tmp_path / 'o.csv']):
        r = run(*args, '--date', '2025-13-45')
        assert r.exit_code == 2 and '--date' in r.output and str(facts) not in r.output, r.output


def test_fmt_check_on_an_unparsable_file_does_not_claim_all_is_formatted(tmp_path):
    bad = tmp_path / 'bad.pol'
    bad.write_text('政策：\n条款 ((( \n', encoding='utf-8')
    r = run('fmt', '--check', bad)
    assert r.exit_code == 2
    assert '全部文件已是规范格式' not in r.output and '无法读取或解析' in r.output and 'E-SYNTAX' in r.output


def test_fmt_write_is_whole_or_nothing(tmp_path, monkeypatch):
    pol = tmp_path / 'p.pol'
    text = POL.read_text(encoding='utf-8').replace('条款 7. 增长', '条款   7.   增长')
    pol.write_text(text, encoding='utf-8')
    monkeypatch.setattr(os, 'replace', lambda *a: (_ for _ in ()).throw(OSError(errno.EIO, 'I/O error')))
    r = run('fmt', '-w', pol)
    monkeypatch.undo()
    assert r.exit_code == 2 and 'E-IO' in r.output
    assert pol.read_text(encoding='utf-8') == text and leftovers(tmp_path) == []


def test_messages_show_numbers_not_decimal_reprs(tmp_path):
    facts = tmp_path / 'f.json'
    facts.write_text('{"运营年度": 2.5, "落户": 1.5}', encoding='utf-8')
    r = run('eval', POL, '--facts', facts)
    assert r.exit_code == 2 and '得到 2.5' in r.output and '得到 1.5' in r.output
    assert 'Decimal' not in r.output


@pytest.mark.parametrize('engine', ENGINES)
def test_an_empty_csv_is_refused_alike_on_both_engines(tmp_path, engine):
    src = tmp_path / 'empty.csv'
    src.write_bytes(b'')
    r = run('eval', POL, '--facts', src, '--out', tmp_path / 'o.csv', '--engine', engine)
    assert r.exit_code == 2 and '文件为空' in r.output and '表头' in r.output
    head = tmp_path / 'head.csv'                # a header and no rows: an empty result on both
    head.write_text('编号,攻关算力成本\n', encoding='utf-8')
    r = run('eval', POL, '--facts', head, '--out', tmp_path / 'o.csv', '--engine', engine, '--id-column', '编号',
            '--date', '2025-06-01')
    assert r.exit_code == 0 and '计算了 0 行' in r.output
    assert (tmp_path / 'o.csv').read_text(encoding='utf-8').count('\n') == 1


# ------------------------------------------------------------------ a real full disk
@pytest.fixture
def tiny_disk(tmp_path):
    mnt = tmp_path / 'tiny'
    mnt.mkdir()
    try:
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', str(mnt)], capture_output=True,
                           timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip('mount is not available')
    if r.returncode != 0:
        pytest.skip('mounting a tmpfs is not permitted here')
    try:
        yield mnt
    finally:
        subprocess.run(['umount', str(mnt)], capture_output=True, timeout=30)


@pytest.mark.parametrize('engine', ENGINES)
def test_a_real_full_disk_keeps_the_earlier_results(tmp_path, tiny_disk, engine):
    src = tmp_path / 'big.csv'
    src.write_text('编号,攻关算力成本\n' + ''.join(f'N{i},{i}元\n' for i in range(3000)), encoding='utf-8')
    out = tiny_disk / 'o.csv'
    out.write_text('earlier results\n', encoding='utf-8')
    r = run('eval', POL, '--facts', src, '--out', out, '--id-column', '编号', '--engine', engine,
            '--date', '2025-06-01')
    assert r.exit_code == 2 and 'E-IO' in r.output and str(out) in r.output, r.output
    assert out.read_text(encoding='utf-8') == 'earlier results\n'
    assert leftovers(tiny_disk) == []


def test_build_on_a_real_full_disk_keeps_the_earlier_module(tiny_disk):
    target = tiny_disk / 'mod.py'
    target.write_text('# earlier module\n', encoding='utf-8')
    (tiny_disk / 'filler').write_bytes(b'x' * 40000)
    r = run('build', POL, '-o', target)
    assert r.exit_code == 2 and 'E-IO' in r.output and str(target) in r.output
    assert target.read_text(encoding='utf-8') == '# earlier module\n'
    assert leftovers(tiny_disk) == []


def test_check_report_does_not_read_a_device_named_as_the_source(tmp_path):
    """来源 naming /dev/zero: the coverage report does not read it (it would never end)."""
    pol = tmp_path / 'p.pol'
    text = POL.read_text(encoding='utf-8')
    pol.write_text(text.replace('施行日期：', '来源："/dev/zero"\n施行日期：', 1), encoding='utf-8')
    r = _polc('check', '--report', pol, timeout=120)
    assert r.returncode in (0, 1) and 'Traceback' not in r.stderr, r.stderr
    assert '来源' in pol.read_text(encoding='utf-8')


def test_an_output_that_is_a_device_or_fifo_is_refused_and_left_alone(tmp_path):
    """Renaming a finished file onto /dev/null (or a FIFO) would replace the device itself."""
    fifo = tmp_path / 'o.csv'
    os.mkfifo(fifo)
    src = tmp_path / 'in.csv'
    src.write_text(TABLE, encoding='utf-8')
    r = _polc('eval', POL, '--facts', src, '--out', fifo, '--id-column', '编号')
    assert r.returncode == 2 and '不是普通文件' in r.stderr
    assert fifo.is_fifo()
    r = _polc('build', POL, '-o', '/dev/null')
    assert r.returncode == 2 and '不是普通文件' in r.stderr
    assert Path('/dev/null').is_char_device()


def test_a_huge_exponent_for_an_integer_is_refused_quickly(tmp_path):
    """1e999999 for an integer input: refused by its size, not turned into a million-digit int
    (which hung), and shown in the message as 1E+999999, not as a million digits."""
    facts = tmp_path / 'f.json'
    facts.write_text('{"运营年度": 1e999999}', encoding='utf-8')
    r = _polc('eval', POL, '--facts', facts, '--date', '2025-06-01', timeout=60)
    assert r.returncode == 2 and '整数超出范围：1E+999999' in r.stderr and len(r.stderr) < 500


def test_report_that_fails_to_write_leaves_the_earlier_page(tmp_path, monkeypatch):
    src = tmp_path / 'in.csv'
    src.write_text(TABLE, encoding='utf-8')
    page = tmp_path / 'page.html'
    page.write_text('<p>earlier</p>\n', encoding='utf-8')

    real_fsync = os.fsync

    def no_space_for(name):
        def fsync(fd):
            if name in os.readlink(f'/proc/self/fd/{fd}'):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_fsync(fd)
        return fsync

    if not os.path.isdir('/proc/self/fd'):
        pytest.skip('needs /proc to tell the files apart')
    # the intermediate results (in the system's temporary folder) cannot be written
    monkeypatch.setattr(os, 'fsync', no_space_for('results.csv'))
    r = run('report', POL, '--facts', src, '--out', page, '--id-column', '编号', '--date', '2025-06-01',
            '--engine', 'python')
    assert r.exit_code == 2 and 'E-IO' in r.output and 'TMPDIR' in r.output, r.output
    assert page.read_text(encoding='utf-8') == '<p>earlier</p>\n'
    # the page itself cannot be written
    monkeypatch.setattr(os, 'fsync', no_space_for('page.html'))
    r = run('report', POL, '--facts', src, '--out', page, '--id-column', '编号', '--date', '2025-06-01',
            '--engine', 'python')
    monkeypatch.undo()
    assert r.exit_code == 2 and 'E-IO' in r.output and str(page) in r.output, r.output
    assert page.read_text(encoding='utf-8') == '<p>earlier</p>\n'
    assert leftovers(tmp_path) == []
