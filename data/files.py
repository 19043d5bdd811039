"""Files that appear whole or not at all: write beside the target, then rename onto it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_directory", "atomic_path", "atomic_paths", "write_text_atomic"]


@contextmanager
def atomic_paths(paths: Iterable[str | os.PathLike], suffix: str = ".tmp", prefix: str = ".") -> Iterator[list[Path]]:
    """Temporary paths, one in each target's folder (``<prefix><name>.<random><suffix>``).

    When the block ends normally they get a new file's permissions and are renamed onto
    their targets, in order; when it raises they are all removed and no target changes.
    """
    targets = [Path(p) for p in paths]
    temps: list[Path] = []
    try:
        for path in targets:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{prefix}{path.name}.", suffix=suffix)
            os.close(fd)
            temps.append(Path(tmp))
        yield temps
        mode = 0o666 & ~_umask()
        for tmp in temps:
            os.chmod(tmp, mode)
        for tmp, path in zip(temps, targets):  # renames only: nothing left that can fail half-way
            os.replace(tmp, path)
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp", prefix: str = ".") -> Iterator[Path]:
    """A temporary path in ``path``'s folder; renamed onto ``path`` (with a new file's
    permissions) when the block ends normally, removed when it raises."""
    with atomic_paths([path], suffix, prefix) as (tmp,):
        yield tmp


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


@contextmanager
def atomic_directory(path: str | os.PathLike, replace: bool = False) -> Iterator[Path]:
    """A temporary folder beside ``path``, renamed onto it when the block ends normally and
    removed when it raises. If another process created ``path`` meanwhile (two first runs
    at once), its folder is kept and this one discarded; with ``replace`` an existing folder
    is swapped out instead (moved aside, then deleted), so a rebuild replaces it whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        yield tmp
        if replace and path.exists():
            aside = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old."))
            os.replace(path, aside / path.name)
            os.replace(tmp, path)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if replace or not path.exists():
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
