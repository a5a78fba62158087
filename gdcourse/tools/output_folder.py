"""Output folders a command may empty: only the ones it made itself.

``gdcourse site -o DIR`` and ``gdcourse slides -o DIR`` replace what they built
before.  They must never delete what a user put there: a folder is replaced only
when it is new, empty, or carries the marker file :data:`MARKER` that the command
wrote the last time it filled it (or with ``--force``, which says "yes, replace
its contents").  Some folders are refused even with ``--force``, because
replacing them is never what anyone meant: ``/``, the home folder, the working
folder or one of its parents, and any folder that holds the command's own input.

Use :func:`check_output_folder` before any work (so a refusal costs nothing and
changes nothing), then :func:`replace_folder` or :func:`empty_folder` to fill it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

__all__ = ["MARKER", "OutputFolderError", "check_output_folder", "empty_folder", "replace_folder"]

MARKER = ".gdcourse-output"
"""Name of the file that marks a folder as made by a gdcourse command (its text names the command)."""


class OutputFolderError(ValueError):
    """The output folder cannot be used: it holds other files, is a file, or must never be replaced."""


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _made_by(folder: Path) -> str | None:
    try:
        return (folder / MARKER).read_text(encoding="utf-8").strip() or "gdcourse"
    except (OSError, UnicodeDecodeError):
        return None


def check_output_folder(
    folder: str | os.PathLike, command: str, *, force: bool = False, inputs: Iterable[str | os.PathLike] = ()
) -> Path:
    """Refuse, before any work, an output folder that ``command`` may not fill; return it as an absolute path.

    Parameters
    ----------
    folder : path
        Where ``command`` will write (need not exist).
    command : str
        The command's name, as in ``"gdcourse slides"`` (for messages and the marker).
    force : bool
        Replace the contents of an existing folder that ``command`` did not make.
    inputs : paths
        What ``command`` reads (source notebooks): the output may neither be nor contain any of them.

    Raises
    ------
    OutputFolderError
        When ``folder`` is a file, a protected folder (``/``, home, the working folder or a
        parent of it, a folder holding the inputs), or a non-empty folder without the marker
        and ``force`` is false.  Nothing is changed.
    """
    path = Path(folder).expanduser().absolute()
    resolved = path.resolve()
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{command}: {folder} is a file; --output must be a folder (it writes several files)")
    protected = {Path("/"), Path.home().resolve()}
    if any(resolved == p for p in protected) or _inside(Path.cwd().resolve(), resolved):
        raise OutputFolderError(
            f"{command}: refusing to replace {folder} ({resolved}): it is the root, home or working folder, or holds "
            "the working folder. Choose a folder of its own, e.g. build/…"
        )
    for source in inputs:
        source_path = Path(source).absolute().resolve()
        if _inside(source_path, resolved):
            raise OutputFolderError(
                f"{command}: refusing to write into {folder}: it holds the input {source}, which would be replaced"
            )
    if path.is_dir() and not force and _made_by(path) is None:
        entries = sorted(entry.name for entry in path.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
            raise OutputFolderError(
                f"{command}: {folder} already holds files that {command} did not make ({shown}); nothing was "
                "changed. Choose a new or empty folder, or pass --force to replace its contents."
            )
    return path


def _mark(folder: Path, command: str) -> None:
    (folder / MARKER).write_text(f"{command}\n", encoding="utf-8")


def empty_folder(folder: Path, command: str) -> None:
    """Create ``folder`` or remove its contents (checked with :func:`check_output_folder`), and mark it as ours.

    Parameters
    ----------
    folder : Path
        The output folder, already accepted by :func:`check_output_folder`.
    command : str
        The command's name, written in the marker file :data:`MARKER`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    _mark(folder, command)


def replace_folder(folder: Path, built: Path, command: str) -> None:
    """Put the finished folder ``built`` at ``folder`` (checked with :func:`check_output_folder`), marked as ours.

    The old folder is moved aside first and removed only once the new one is in place.

    Parameters
    ----------
    folder : Path
        The output folder, already accepted by :func:`check_output_folder`.
    built : Path
        The finished folder, moved to ``folder``.
    command : str
        The command's name, written in the marker file :data:`MARKER`.
    """
    _mark(built, command)
    folder.parent.mkdir(parents=True, exist_ok=True)
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    if folder.exists():
        folder.rename(old)
    shutil.move(str(built), str(folder))
    if old.exists():
        shutil.rmtree(old)
