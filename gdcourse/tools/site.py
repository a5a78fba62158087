"""``gdcourse site``: the course website, a static HTML site that works offline.

Built with Sphinx, myst-nb and sphinx-book-theme from ``docs/site/`` (configuration,
index page with the learning path) and the course notebooks with their stored
outputs (``nb_execution_mode = "off"``: nothing is executed).  The sources are
*staged* in a temporary folder, never copied into the repository:

- ``docs/site/*`` as they are, except that each ``{nb}`NN``` in ``index.md``
  becomes a link to notebook NN (or "in preparation" while it does not exist);
- ``docs/instructor.md`` and ``docs/grading.md`` (the "For instructors" pages) and the pictures
  they show (``docs/images/``);
- each ``notebooks/NN_*.ipynb``, prepared for learners: cells tagged
  ``instructor`` removed, code cells holding a solution (``# BEGIN SOLUTION`` or
  a line ending in ``# SOLUTION``) folded behind "Show code cell source"
  (myst-nb's ``hide-input`` tag), markdown solution blocks folded in a
  ``<details>``, and widgets replaced by stills of what they showed (see
  :func:`gdcourse.tools.slides.static_widgets`);
- MathJax 3 (from the npm package pinned in ``docs/vendor``) under ``_static/mathjax``.

The output is byte-deterministic except ``.buildinfo`` (Sphinx's build stamp,
removed from the output because it is not content) -- see ``tests/test_site.py``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat

from gdcourse.tools.output_folder import OutputFolderError, check_output_folder, replace_folder
from gdcourse.tools.slides import (
    REPO_ROOT,
    VendorError,
    copy_assets,
    course_notebooks,
    ensure_vendor,
    notebook_title,
    static_widgets,
)

__all__ = ["SiteError", "add_arguments", "build_site", "learner_notebook", "run"]

SITE_DIR = REPO_ROOT / "docs" / "site"
EXTRA_PAGES = ("instructor.md", "grading.md")  # from docs/, linked from the index page
MATHJAX_ASSETS = (
    ("mathjax3", "es5/tex-chtml.js", "mathjax/tex-chtml.js"),
    ("mathjax3", "es5/input/tex/extensions", "mathjax/input/tex/extensions"),  # loaded on demand (autoload)
    ("mathjax3", "es5/output/chtml/fonts/woff-v2", "mathjax/output/chtml/fonts/woff-v2"),
    ("mathjax3", "es5/ui", "mathjax/ui"),
    ("mathjax3", "es5/a11y", "mathjax/a11y"),  # the menu's accessibility options
    ("mathjax3", "es5/sre", "mathjax/sre"),
    ("mathjax3", "LICENSE", "mathjax/LICENSE"),
)
_NB_LINK = re.compile(r"\{nb\}`(\d\d)`")
_SOLUTION = re.compile(r"^\s*#+\s*BEGIN SOLUTION\s*$|#\s*SOLUTION\s*$", re.MULTILINE)
_MD_SOLUTION = re.compile(r"<!--\s*BEGIN SOLUTION\s*-->(.*?)<!--\s*END SOLUTION\s*-->", re.DOTALL)
INSTRUCTOR_TAG = "instructor"


class SiteError(RuntimeError):
    """The website could not be built (Sphinx failed or a source is missing)."""


def learner_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as the website shows it: instructor cells out, solutions folded, widgets as stills."""
    nb = static_widgets(nb)
    cells = []
    for cell in nb.cells:
        tags = list(cell.get("metadata", {}).get("tags", []) or [])
        if INSTRUCTOR_TAG in tags:
            continue
        if cell.cell_type == "code" and _SOLUTION.search(cell.source) and "hide-input" not in tags:
            cell.metadata["tags"] = [*tags, "hide-input"]
        elif cell.cell_type == "markdown":
            cell.source = _MD_SOLUTION.sub(
                lambda m: f"\n<details><summary>Solution</summary>\n\n{m.group(1).strip()}\n\n</details>\n",
                cell.source,
            )
        cells.append(cell)
    nb.cells = cells
    return nb


def _index_text(text: str, stems: dict[str, str], titles: dict[str, str]) -> str:
    def link(match: re.Match[str]) -> str:
        number = match.group(1)
        if number not in stems:
            return f"{number} *(in preparation)*"
        return f"[{titles[number]}](notebooks/{stems[number]}.ipynb)"

    return _NB_LINK.sub(link, text)


def _stage(stage: Path, notebooks: list[Path], modules: Path) -> None:
    shutil.copytree(SITE_DIR, stage, ignore=shutil.ignore_patterns("_build", "__pycache__", ".ipynb_checkpoints"))
    for name in EXTRA_PAGES:
        source = REPO_ROOT / "docs" / name
        if source.is_file():
            shutil.copyfile(source, stage / name)
    if (REPO_ROOT / "docs" / "images").is_dir():  # the pictures those pages show (images/...)
        shutil.copytree(REPO_ROOT / "docs" / "images", stage / "images", dirs_exist_ok=True)
    (stage / "notebooks").mkdir()
    stems, titles = {}, {}
    for path in notebooks:
        nb = learner_notebook(nbformat.read(path, as_version=4))
        nbformat.write(nb, stage / "notebooks" / path.name)
        stems[path.name[:2]] = path.stem
        titles[path.name[:2]] = notebook_title(nb, path.stem)
    index = stage / "index.md"
    index.write_text(_index_text(index.read_text(encoding="utf-8"), stems, titles), encoding="utf-8")
    copy_assets(modules, stage / "_static", MATHJAX_ASSETS)


def build_site(
    output: str | Path = "build/site",
    source: str | Path | None = None,
    *,
    only: Iterable[str] | None = None,
    vendor_dir: str | Path | None = None,
    quiet: bool = True,
    force: bool = False,
) -> Path:
    """Build the course website into ``output`` (replaced) and return the path of its ``index.html``.

    Parameters
    ----------
    output : path
        The HTML folder.  A folder this command built before is replaced; a new or empty
        one is created; any other folder is refused before any work unless ``force``
        (see :mod:`gdcourse.tools.output_folder`).
    source : path, optional
        Folder of the course notebooks (default: the checkout's ``notebooks/``).
    only : iterable of str, optional
        Notebook numbers or stems to include (default: all) -- for quick builds.
    vendor_dir : path, optional
        Folder holding ``package.json`` of the browser assets (default ``docs/vendor``).
    quiet : bool
        Pass ``-q`` to Sphinx (warnings and errors are still printed).
    force : bool
        Replace the contents of an existing folder this command did not make.

    Raises
    ------
    SiteError
        If the output folder may not be used, a source is missing or Sphinx fails.
    VendorError
        If the MathJax npm package is missing and cannot be installed.
    """
    folder = Path(source) if source is not None else REPO_ROOT / "notebooks"
    try:
        output = check_output_folder(output, "gdcourse site", force=force, inputs=[folder])
    except OutputFolderError as err:
        raise SiteError(str(err)) from None
    notebooks = course_notebooks(folder, only)
    if not notebooks:
        raise SiteError(f"no course notebooks (NN_*.ipynb) in {folder}")
    if not (SITE_DIR / "conf.py").is_file():
        raise SiteError(f"{SITE_DIR / 'conf.py'} is missing: build the site from a source checkout")
    modules = ensure_vendor(vendor_dir)
    with tempfile.TemporaryDirectory(prefix="gdcourse-site-") as tmp:
        # HTML goes to tmp/html first: myst-nb writes its output files next to the HTML folder
        # (tmp/jupyter_execute), which must not litter the folder holding ``output``.
        stage, doctrees, html = Path(tmp) / "src", Path(tmp) / "doctrees", Path(tmp) / "html"
        _stage(stage, notebooks, modules)
        command = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-d", str(doctrees), str(stage), str(html)]
        if quiet:
            command.insert(3, "-q")
        done = subprocess.run(command, check=False, cwd=tmp)
        if done.returncode != 0:
            raise SiteError(f"sphinx-build failed (exit {done.returncode}): {' '.join(command)}")
        (html / ".buildinfo").unlink(missing_ok=True)  # a build stamp, not content
        if (html / "_sources").is_dir() and not any((html / "_sources").iterdir()):
            (html / "_sources").rmdir()  # left empty by html_copy_source = False
        replace_folder(output, html, "gdcourse site")
    return output / "index.html"


# --- command line -------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``gdcourse site`` to ``parser``."""
    parser.add_argument(
        "--output", "-o", type=Path, default=Path("build/site"), help="HTML folder (default: build/site)"
    )
    parser.add_argument(
        "--source", type=Path, default=None, help="source notebooks (default: the checkout's notebooks/)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the contents of an output folder that gdcourse site did not make"
    )
    parser.add_argument("notebooks", nargs="*", help="notebook numbers or names to include (default: all)")


def run(args: argparse.Namespace) -> int:
    """Run ``gdcourse site`` with parsed ``args``; return the exit status (0 ok, 2 error)."""
    try:
        index = build_site(args.output, args.source, only=args.notebooks or None, force=args.force)
    except (SiteError, VendorError) as err:
        print(f"gdcourse site: {err}", file=sys.stderr)
        return 2
    print(f"wrote {index.parent}; open {index} in a browser (works offline)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m gdcourse.tools.site``."""
    parser = argparse.ArgumentParser(prog="gdcourse site", description=__doc__.split("\n", 1)[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
