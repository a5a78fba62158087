"""``gdcourse assign``: make the student notebooks from the source notebooks.

For every ``SOURCE/*.ipynb`` this writes ``TARGET/<same name>`` (``TARGET`` is
``SOURCE/student`` by default) where

- code between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` at the marker's indentation;
- a line ending in ``# SOLUTION`` keeps its left-hand side: ``lr = 0.5  # SOLUTION``
  becomes ``lr = ...  # YOUR ANSWER`` (``return x  # SOLUTION`` becomes
  ``return ...  # YOUR ANSWER``; any other statement becomes ``...``);
- markdown between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` is
  removed (a cell left empty is dropped), and cells tagged ``instructor`` are dropped;
- outputs and execution counts are cleared, cell and notebook metadata are reduced
  to what a student needs (tags, slide types, kernel), cells get stable ids;
- the file is written byte-deterministically (nbformat's JSON: sorted keys,
  indent 1, a final newline), so regenerating changes nothing.

It refuses to overwrite a student notebook that no longer matches what it wrote
(the SHA-256 of each file written is kept in ``TARGET/.manifest.json``) unless
``force`` is given.  ``--check`` regenerates in memory and names every student
notebook that is out of date (for CI).
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat

__all__ = [
    "AssignError",
    "OverwriteRefusedError",
    "add_arguments",
    "assign",
    "main",
    "make_student_notebook",
    "notebook_bytes",
    "run",
    "stale_student_notebooks",
]

MANIFEST = ".manifest.json"
INSTRUCTOR_TAG = "instructor"
CODE_PROMPT = ("# YOUR CODE HERE", "raise NotImplementedError()")
ANSWER_PROMPT = "...  # YOUR ANSWER"

_BEGIN = re.compile(r"^(?P<indent>\s*)#+\s*BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*#+\s*END SOLUTION\s*$")
_LINE = re.compile(r"^(?P<code>.*\S)\s*#\s*SOLUTION\s*$")
_STRAY = re.compile(r"#.*\bSOLUTION\b")
_MD_BLOCK = re.compile(r"<!--\s*BEGIN SOLUTION\s*-->.*?<!--\s*END SOLUTION\s*-->[ \t]*\n?", re.DOTALL)
_MD_MARKER = re.compile(r"<!--\s*(BEGIN|END) SOLUTION\s*-->")
_CELL_METADATA = ("tags", "slideshow", "editable", "deletable")
_LANGUAGE_INFO = ("name", "codemirror_mode", "file_extension", "mimetype", "nbconvert_exporter", "pygments_lexer")


class AssignError(ValueError):
    """A source notebook cannot be turned into a student notebook (e.g. an unclosed solution block)."""


class OverwriteRefusedError(RuntimeError):
    """Student notebooks were changed since ``gdcourse assign`` wrote them; nothing was written.

    Attributes
    ----------
    paths : list of Path
        The student notebooks that would have been overwritten.
    """

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        names = ", ".join(str(p) for p in paths)
        super().__init__(
            f"refusing to overwrite {names}: changed since gdcourse assign wrote it (or not written by it); "
            "nothing was written. Use --force (force=True) to overwrite."
        )


# --- one notebook -------------------------------------------------------------------------------


def _blank_line(code: str, where: str) -> str:
    """``lr = 0.5`` -> ``lr = ...  # YOUR ANSWER`` (indentation kept)."""
    indent = code[: len(code) - len(code.lstrip())]
    statement = code.strip()
    try:
        body = ast.parse(statement).body
    except SyntaxError as err:
        raise AssignError(f"{where}: a line ending in '# SOLUTION' must be a whole statement ({err.msg})") from None
    node = body[0] if len(body) == 1 else None
    if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
        left = statement.encode()[: node.value.col_offset].decode().rstrip()  # col_offset counts UTF-8 bytes
        return f"{indent}{left} {ANSWER_PROMPT}"
    if isinstance(node, ast.Return) and node.value is not None:
        return f"{indent}return {ANSWER_PROMPT}"
    return f"{indent}{ANSWER_PROMPT}"


def _strip_code(source: str, where: str) -> str:
    out: list[str] = []
    begin: tuple[int, str] | None = None
    for number, line in enumerate(source.split("\n"), start=1):
        opened = _BEGIN.match(line)
        if begin is not None:
            if opened:
                raise AssignError(f"{where}, line {number}: BEGIN SOLUTION inside the block opened on line {begin[0]}")
            if _END.match(line):
                out += [begin[1] + text for text in CODE_PROMPT]
                begin = None
            continue
        if opened:
            begin = (number, opened.group("indent"))
        elif _END.match(line):
            raise AssignError(f"{where}, line {number}: END SOLUTION without BEGIN SOLUTION")
        elif (single := _LINE.match(line)) is not None:
            out.append(_blank_line(single.group("code"), f"{where}, line {number}"))
        elif _STRAY.search(line):
            raise AssignError(f"{where}, line {number}: a SOLUTION marker must end its line: {line.strip()!r}")
        else:
            out.append(line)
    if begin is not None:
        raise AssignError(f"{where}, line {begin[0]}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "\n".join(out)


def _strip_markdown(source: str, where: str) -> str:
    text = _MD_BLOCK.sub("", source)
    if _MD_MARKER.search(text):
        raise AssignError(f"{where}: unmatched <!-- BEGIN SOLUTION --> / <!-- END SOLUTION --> marker")
    return text.rstrip()


def _cell_id(cell: dict, index: int, used: set[str]) -> str:
    wanted = cell.get("id")
    if not (isinstance(wanted, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", wanted)):
        wanted = hashlib.sha256(f"{index}\n{cell.get('source', '')}".encode()).hexdigest()[:12]
    candidate, n = wanted, 1
    while candidate in used:
        n += 1
        candidate = f"{wanted[:56]}-{n}"
    used.add(candidate)
    return candidate


def _is_instructor(cell: dict) -> bool:
    return INSTRUCTOR_TAG in (cell.get("metadata", {}).get("tags") or [])


def make_student_notebook(nb: Any) -> nbformat.NotebookNode:
    """The student version of the source notebook ``nb`` (which is left unchanged).

    Parameters
    ----------
    nb : NotebookNode or dict
        A version-4 notebook.

    Returns
    -------
    NotebookNode
        Solutions replaced by prompts, instructor cells removed, outputs, execution
        counts and volatile metadata removed, stable cell ids.

    Raises
    ------
    AssignError
        If solution markers are unbalanced or a ``# SOLUTION`` line is not a whole statement.
    """
    source = nbformat.from_dict(copy.deepcopy(dict(nb)))
    cells: list[Any] = []
    used: set[str] = set()
    for index, cell in enumerate(source.get("cells", [])):
        if _is_instructor(cell):
            continue
        where = f"cell {index}"
        text = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
        metadata: dict[str, Any] = {k: cell["metadata"][k] for k in _CELL_METADATA if k in cell.get("metadata", {})}
        if not metadata.get("tags", True):
            del metadata["tags"]
        kind = cell.get("cell_type")
        if kind == "code":
            new = nbformat.v4.new_code_cell(_strip_code(text, where), metadata=metadata)
        elif kind == "markdown":
            text = _strip_markdown(text, where)
            if not text.strip():
                continue
            new = nbformat.v4.new_markdown_cell(text, metadata=metadata)
        else:
            new = nbformat.v4.new_raw_cell(text, metadata=metadata)
        new["id"] = _cell_id(cell, index, used)
        cells.append(new)
    metadata = {}
    if "kernelspec" in source.get("metadata", {}):
        metadata["kernelspec"] = dict(source.metadata.kernelspec)
    info = source.get("metadata", {}).get("language_info") or {}
    if info:
        metadata["language_info"] = {k: info[k] for k in _LANGUAGE_INFO if k in info}
    return nbformat.from_dict({"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5})


def notebook_bytes(nb: Any) -> bytes:
    """Serialise ``nb`` deterministically: nbformat's JSON (sorted keys, indent 1), UTF-8, final newline."""
    text = nbformat.writes(nbformat.from_dict(nb), version=4)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _student_bytes(path: Path) -> bytes:
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception as err:  # noqa: BLE001 - any unreadable notebook is reported the same way
        raise AssignError(f"{path}: cannot read the notebook ({type(err).__name__}: {err})") from err
    try:
        return notebook_bytes(make_student_notebook(nb))
    except AssignError as err:
        raise AssignError(f"{path}: {err}") from None


# --- a folder of notebooks ----------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sources(source_dir: Path) -> list[Path]:
    if not source_dir.is_dir():
        raise AssignError(f"source folder {source_dir} does not exist")
    return sorted(source_dir.glob("*.ipynb"))


def _plan(source_dir: Path) -> dict[str, bytes]:
    return {path.name: _student_bytes(path) for path in _sources(source_dir)}


def _read_manifest(target_dir: Path) -> dict[str, str]:
    try:
        files = json.loads((target_dir / MANIFEST).read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; student notebooks are shared files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _default_target(source_dir: Path, target_dir: str | Path | None) -> Path:
    target = Path(source_dir) / "student" if target_dir is None else Path(target_dir)
    source, resolved = Path(source_dir).resolve(), target.resolve()
    if resolved == source or resolved in source.parents:
        raise AssignError(
            f"the target folder {target} {'is' if resolved == source else 'holds'} the source folder {source_dir}: "
            "the student versions would replace the source notebooks. Choose another target (default: "
            f"{Path(source_dir) / 'student'}); --force does not change this."
        )
    return target


def assign(source_dir: str | Path, target_dir: str | Path | None = None, force: bool = False) -> list[Path]:
    """Write the student version of every ``source_dir/*.ipynb`` into ``target_dir``.

    Parameters
    ----------
    source_dir : path
        Folder of source notebooks (not searched recursively).
    target_dir : path, optional
        Where student notebooks go; default ``source_dir/student``.
    force : bool
        Overwrite student notebooks even when they were changed since they were generated.

    Returns
    -------
    list of Path
        The files written (files already up to date are not rewritten).

    Raises
    ------
    AssignError
        If a source notebook is malformed, or the target is or holds the source folder
        (even with ``force``); nothing is written.
    OverwriteRefusedError
        If a student notebook differs from what was last generated (and from what
        would be generated now) and ``force`` is false; nothing is written.
    """
    source_dir = Path(source_dir)
    target_dir = _default_target(source_dir, target_dir)
    plan = _plan(source_dir)
    manifest = _read_manifest(target_dir)
    changes, refused = {}, []
    for name, data in plan.items():
        path = target_dir / name
        if path.is_file():
            disk = path.read_bytes()
            if disk == data:
                continue
            if not force and manifest.get(name) != _sha256(disk):
                refused.append(path)
        changes[name] = data
    if refused:
        raise OverwriteRefusedError(refused)
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in changes.items():
        _write_atomic(target_dir / name, data)
        written.append(target_dir / name)
    updated = {**manifest, **{name: _sha256(data) for name, data in plan.items()}}
    if updated != manifest or not (target_dir / MANIFEST).is_file():
        record = {"generated_by": "gdcourse assign", "files": dict(sorted(updated.items()))}
        _write_atomic(target_dir / MANIFEST, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())
    return written


def stale_student_notebooks(source_dir: str | Path, target_dir: str | Path | None = None) -> list[str]:
    """Regenerate in memory and describe every student notebook that is out of date.

    Parameters
    ----------
    source_dir : path
        Folder of source notebooks (not searched recursively).
    target_dir : path, optional
        Folder of the student notebooks; default ``source_dir/student``.  Nothing is written.

    Returns
    -------
    list of str
        One message per missing, different or orphaned (no source) student notebook;
        empty when everything is up to date.
    """
    source_dir = Path(source_dir)
    target_dir = _default_target(source_dir, target_dir)
    plan = _plan(source_dir)
    problems = []
    for name, data in plan.items():
        path = target_dir / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif path.read_bytes() != data:
            problems.append(f"{path} is out of date")
    for path in sorted(target_dir.glob("*.ipynb")):
        if path.name not in plan:
            problems.append(f"{path} has no source notebook in {source_dir}")
    return problems


# --- command line -------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``gdcourse assign`` to ``parser``."""
    parser.add_argument("--source", type=Path, default=Path("notebooks"), help="source notebooks (default: notebooks)")
    parser.add_argument("--target", type=Path, default=None, help="student notebooks (default: SOURCE/student)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="overwrite student notebooks even if they were changed")
    mode.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 naming every student notebook out of date"
    )


def _report(lines: Iterable[str], stream: Any) -> None:
    for line in lines:
        print(line, file=stream)


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m gdcourse.tools.assign``."""
    parser = argparse.ArgumentParser(prog="gdcourse assign", description=__doc__.split("\n", 1)[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run ``gdcourse assign`` with parsed ``args``; return the exit status (0 ok, 1 refused/stale, 2 error)."""
    try:
        if args.check:
            stale = stale_student_notebooks(args.source, args.target)
            if stale:
                _report(stale + ["run `gdcourse assign` to regenerate them"], sys.stderr)
                return 1
            print(f"student notebooks are up to date ({len(_sources(Path(args.source)))} checked)")
            return 0
        written = assign(args.source, args.target, force=args.force)
    except OverwriteRefusedError as err:
        print(f"gdcourse assign: {err}", file=sys.stderr)
        return 1
    except AssignError as err:
        print(f"gdcourse assign: {err}", file=sys.stderr)
        return 2
    _report((f"wrote {path}" for path in written), sys.stdout)
    total = len(_sources(Path(args.source)))
    print(f"{len(written)} written, {total - len(written)} already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
