"""Files in and out, safely: bounded reading and whole-or-nothing writing.

Reading.  A policy file or a single applicant's facts file is read through :func:`read_bounded`:
only a regular file is read (a FIFO, a socket or a device such as ``/dev/zero`` is refused before
anything is read: the file is opened non-blocking and checked with ``fstat``), and never more than
:func:`input_limit` bytes (64 MiB unless the environment variable ``POLC_MAX_INPUT_BYTES`` says
otherwise).  Tables are streamed, so they have no size limit, but they too must be regular files
(:func:`open_regular`).

Writing.  Every file polc writes (batch results, rejects, allocation, report HTML and PNG, build,
doc, ``fmt -w``, verify's counterexamples) goes through :class:`Outputs`: each output is written to
a temporary file beside its target, and only when the whole job has succeeded is each one flushed
to disk (fsync) and renamed into place (``os.replace``).  On any failure the temporary files are
removed: an earlier file at the target is left untouched, and no partial file is ever left.  A
target that is a symbolic link is written through (the file it points to is replaced).

Identity.  :func:`check_distinct` compares every output with every input and with the other
outputs as *files* (after resolving symbolic links, and by device and inode for hard links), and
refuses a clash before any work is done.

``dsl`` never imports ``compiler``; this module is here so that both can use it.
"""
from __future__ import annotations

import os
import stat
import tempfile
from typing import Iterable, Optional

DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024
LIMIT_VARIABLE = 'POLC_MAX_INPUT_BYTES'
TEMP_SUFFIX = '.polc-tmp'


class FileProblem(Exception):
    """A file that cannot be read or written as asked; ``message`` is Chinese, ``path`` names it."""

    def __init__(self, path: str, message: str):
        super().__init__(f'{path}：{message}')
        self.path = str(path)
        self.message = message


class PathClash(FileProblem):
    """Two of a command's paths (an output and an input, or two outputs) name the same file."""

    def __init__(self, message: str):
        Exception.__init__(self, message)
        self.path = ''
        self.message = message


# ------------------------------------------------------------------ reading
def input_limit() -> int:
    """The most bytes read from one policy or facts file: ``POLC_MAX_INPUT_BYTES`` or 64 MiB."""
    text = os.environ.get(LIMIT_VARIABLE, '').strip()
    if not text:
        return DEFAULT_MAX_INPUT_BYTES
    if not text.isdigit() or int(text) <= 0:
        raise FileProblem(LIMIT_VARIABLE, f'环境变量 {LIMIT_VARIABLE} 应为正整数（字节数），得到「{text}」')
    return int(text)


def _size_text(n: int) -> str:
    return f'{n / 1024 / 1024:.0f} MiB' if n >= 1024 * 1024 and n % (1024 * 1024) == 0 else f'{n} 字节'


def open_regular(path: str):
    """Open ``path`` for reading in binary mode, refusing anything but a regular file.

    The file is opened non-blocking (opening a FIFO would otherwise wait for a writer) and checked
    with ``fstat`` on the open descriptor, so the check and the read concern the same file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_CLOEXEC', 0))
    except FileNotFoundError:
        raise FileProblem(path, '文件不存在') from None
    except IsADirectoryError:
        raise FileProblem(path, '这是一个目录') from None
    except OSError as exc:
        raise FileProblem(path, f'无法读取（{exc.strerror}）') from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise FileProblem(path, '这是一个目录')
        if not stat.S_ISREG(st.st_mode):
            kind = ('命名管道（FIFO）' if stat.S_ISFIFO(st.st_mode) else
                    '字符设备' if stat.S_ISCHR(st.st_mode) else
                    '块设备' if stat.S_ISBLK(st.st_mode) else
                    '套接字' if stat.S_ISSOCK(st.st_mode) else '特殊文件')
            raise FileProblem(path, f'这是{kind}，不是普通文件；polc 只读取普通文件')
        if hasattr(os, 'set_blocking'):
            os.set_blocking(fd, True)
        return os.fdopen(fd, 'rb')
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: str, limit: Optional[int] = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` (default :func:`input_limit`) bytes."""
    limit = input_limit() if limit is None else limit
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise FileProblem(path, f'文件过大（{size} 字节，上限 {_size_text(limit)}；'
                                    f'可用环境变量 {LIMIT_VARIABLE} 调整）')
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise FileProblem(path, f'无法读取（{exc.strerror}）') from None
    if len(data) > limit:                 # the file grew while being read
        raise FileProblem(path, f'文件过大（超过 {_size_text(limit)}；可用环境变量 {LIMIT_VARIABLE} 调整）')
    return data


# ------------------------------------------------------------------ identity
def same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: the same path after resolving symbolic links (also for
    files not yet created), or the same device and inode (hard links)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def check_distinct(inputs: Iterable[tuple[str, Optional[str]]],
                   outputs: Iterable[tuple[str, Optional[str]]]) -> None:
    """Refuse (:class:`PathClash`) an output that is the same file as an input or as another
    output.  Each path comes with the label the user gave it (``--out``, ``--facts`` …); ``None``
    and ``-`` (standard input or output) are skipped."""
    ins = [(label, p) for label, p in inputs if p and p != '-']
    outs = [(label, p) for label, p in outputs if p and p != '-']
    for i, (olabel, out) in enumerate(outs):
        for ilabel, inp in ins:
            if same_file(out, inp):
                link = '' if out == inp else '（经链接或不同写法指向同一文件）'
                raise PathClash(f'输出 {olabel}「{out}」与输入 {ilabel}「{inp}」是同一个文件{link}；'
                                f'polc 不覆盖输入，请换一个输出文件名')
        for olabel2, out2 in outs[:i]:
            if same_file(out, out2):
                link = '' if out == out2 else '（经链接或不同写法指向同一文件）'
                raise PathClash(f'输出 {olabel}「{out}」与输出 {olabel2}「{out2}」是同一个文件{link}；'
                                f'请给每个输出不同的文件名')


# ------------------------------------------------------------------ writing
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_target(path: str) -> str:
    """Refuse an output whose folder does not exist, which is a folder, or which is something
    other than a regular file (renaming onto ``/dev/null`` would replace the device); its real path."""
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise FileProblem(path, '这是一个目录，无法写入')
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        # a device (/dev/null), FIFO or socket would be replaced by a regular file: refuse
        raise FileProblem(path, '不是普通文件（设备、命名管道或套接字），polc 的输出只写成普通文件')
    if not os.path.isdir(os.path.dirname(target) or '.'):
        raise FileProblem(path, f'目录 {os.path.dirname(path) or "."} 不存在，无法写入')
    return target


class Outputs:
    """A set of outputs written whole or not at all.

        with Outputs() as out:
            tmp = out.temp('results.csv')      # write the whole file at tmp
            ...
        # here every temporary file has been renamed onto its target

    On an exception inside the block every temporary file is removed and the targets are left as
    they were.  :meth:`temp` also checks that the target can be written (its folder exists, it is
    not a folder) before any work is done."""

    def __init__(self):
        self._pending: list[tuple[str, str, str]] = []     # (path as given, real target, temp)

    def temp(self, path: str) -> str:
        """A new empty temporary file beside ``path``'s target; its name to write to."""
        path = str(path)
        target = check_target(path)
        folder = os.path.dirname(target) or '.'
        try:
            fd, temp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(target) + '.',
                                        suffix=TEMP_SUFFIX)
        except OSError as exc:
            raise FileProblem(path, f'无法写入（{exc.strerror}）') from None
        os.close(fd)
        self._pending.append((path, target, temp))
        return temp

    def commit(self) -> None:
        """Flush every temporary file to disk, then rename each onto its target — as a set: each
        target that existed is kept under a second name (a hard link) until every rename has been
        done, and when one fails the ones already renamed are put back (or removed, where there was
        no file before), so that a failure never leaves some outputs new and others old."""
        mask = _umask()
        done: list[str] = []                # targets renamed into place
        kept: dict = {}                     # target -> its earlier file's second name
        try:
            for path, target, temp in self._pending:
                try:
                    with open(temp, 'rb+') as f:
                        os.fsync(f.fileno())
                    try:
                        mode = stat.S_IMODE(os.stat(target).st_mode)
                    except OSError:
                        mode = 0o666 & ~mask
                    os.chmod(temp, mode)
                    if os.path.exists(target):
                        kept[target] = _keep(target, temp)
                except OSError as exc:
                    raise FileProblem(path, f'无法写入（{exc.strerror}）') from None
            folders = set()
            while self._pending:
                path, target, temp = self._pending[0]
                try:
                    os.replace(temp, target)
                except OSError as exc:
                    raise FileProblem(path, f'无法写入（{exc.strerror}）') from None
                self._pending.pop(0)
                done.append(target)
                folders.add(os.path.dirname(target) or '.')
            for folder in folders:
                _fsync_dir(folder)
        except BaseException:
            for target in reversed(done):   # put the set back as it was
                try:
                    if target in kept:
                        os.replace(kept.pop(target), target)
                    else:
                        os.unlink(target)
                except OSError:
                    pass
            self.abort()
            raise
        finally:
            for backup in kept.values():
                try:
                    os.unlink(backup)
                except OSError:
                    pass

    def abort(self) -> None:
        """Remove every temporary file not yet renamed; the targets are untouched."""
        for _path, _target, temp in self._pending:
            try:
                os.unlink(temp)
            except OSError:
                pass
        self._pending.clear()

    def __enter__(self) -> 'Outputs':
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False


def _keep(target: str, temp: str) -> str:
    """A second name for ``target``'s current file beside it (a hard link, else a copy)."""
    backup = temp[:-len(TEMP_SUFFIX)] + '.old' + TEMP_SUFFIX
    try:
        os.link(target, backup)
    except OSError:
        import shutil
        shutil.copy2(target, backup)
    return backup


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (:class:`FileProblem` on failure)."""
    with Outputs() as out:
        temp = out.temp(path)
        try:
            with open(temp, 'wb') as f:
                f.write(data)
        except OSError as exc:
            raise FileProblem(path, f'无法写入（{exc.strerror}）') from None


def write_text(path: str, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` whole or not at all (:class:`FileProblem` on failure)."""
    write_bytes(path, text.encode('utf-8'))
