"""``gdcourse doctor``: check that this machine can run the course, and say how to fix what cannot."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata as metadata
import os
import platform
import shutil
import sys
from dataclasses import dataclass

__all__ = ["Finding", "add_arguments", "diagnose", "report", "run"]

REQUIRED = ("numpy", "matplotlib", "scikit-learn", "array-api-compat", "ipywidgets", "nbformat")
FOR_LAB = ("jupyterlab", "jupyterlab-widgets", "ipykernel")
FOR_TESTS = ("pytest", "nbval", "array-api-strict", "hypothesis")
OPTIONAL = ("torch", "cupy-cuda12x", "cupy-cuda11x", "cupy")


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``level`` is ``"ok"``, ``"info"``, ``"warn"`` or ``"error"``; ``fix`` says what to do."""

    level: str
    topic: str
    text: str
    fix: str = ""


#: Import name of each distribution whose import name differs from its name with ``-`` -> ``_``.
MODULE_OF = {"scikit-learn": "sklearn", "cupy-cuda12x": "cupy", "cupy-cuda11x": "cupy"}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _import_problem(dist: str) -> str | None:
    """``None`` when the module of ``dist`` imports; otherwise why not (installed metadata is not enough)."""
    module = MODULE_OF.get(dist, dist.replace("-", "_"))
    try:
        importlib.import_module(module)
    except Exception as err:  # noqa: BLE001 - a broken import is reported, not raised
        return f"{type(err).__name__}: {err}"
    return None


def _packages() -> list[Finding]:
    found = []
    groups = (
        (REQUIRED, "error", "pip install -e ."),
        (FOR_LAB, "warn", 'pip install -e ".[lab]"'),
        (FOR_TESTS, "warn", 'pip install -e ".[test]"'),
    )
    for names, level, fix in groups:
        for name in names:
            version = _version(name)
            if version is None:
                found.append(Finding(level, "package", f"{name} is not installed", fix))
            elif (problem := _import_problem(name)) is not None:
                found.append(
                    Finding(
                        level,
                        "package",
                        f"{name} {version} is installed but does not import ({problem})",
                        f"reinstall it: pip install --force-reinstall {name}",
                    )
                )
            else:
                found.append(Finding("ok", "package", f"{name} {version}"))
    torch = _version("torch")
    if torch and (problem := _import_problem("torch")) is not None:
        return found + [
            Finding(
                "warn",
                "package",
                f"torch {torch} is installed but does not import ({problem}): "
                "cross-checks against torch.optim will not run",
                'pip install --force-reinstall -e ".[verify]"',
            )
        ]
    found.append(
        Finding("ok", "package", f"torch {torch} (cross-checks of the optimizers run)")
        if torch
        else Finding(
            "info",
            "package",
            "torch not installed: cross-checks against torch.optim will not run",
            'pip install -e ".[verify]"  (CPU build is enough)',
        )
    )
    return found


def _gpu() -> list[Finding]:
    try:
        cupy = importlib.import_module("cupy")
    except ImportError:
        hint = "nvidia-smi found a GPU: " if shutil.which("nvidia-smi") else ""
        return [
            Finding(
                "info",
                "gpu",
                f"{hint}CuPy is not installed; the course runs on the CPU with NumPy",
                'on a machine with an NVIDIA GPU: pip install -e ".[gpu]"',
            )
        ]
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    except Exception as err:  # noqa: BLE001 - any CUDA failure is reported, not raised
        return [
            Finding(
                "warn",
                "gpu",
                f"CuPy is installed but no GPU is usable ({type(err).__name__}: {err})",
                "check the NVIDIA driver (nvidia-smi) and that the cupy-cudaXX wheel matches its CUDA",
            )
        ]
    return [Finding("ok", "gpu", f"{count} GPU(s) usable through CuPy {cupy.__version__}: {name}")]


def _backend() -> list[Finding]:
    from gdcourse import backend

    requested = os.environ.get("GDCOURSE_BACKEND", "numpy")
    fix = "unset GDCOURSE_BACKEND or set it to one of " + ", ".join(backend.KNOWN_BACKENDS)
    try:
        backend.check_spec(requested or "numpy")  # the same check as gdcourse.use and the first use
        active = backend.current()
    except (TypeError, ValueError) as err:
        return [Finding("error", "backend", f"GDCOURSE_BACKEND={requested!r}: {err}", fix)]
    return [Finding("ok", "backend", f"new arrays are created with {active} (GDCOURSE_BACKEND={requested!r})")]


def _determinism() -> list[Finding]:
    found = []
    mpl_backend = os.environ.get("MPLBACKEND", "")
    if mpl_backend and "inline" not in mpl_backend.lower():  # the Jupyter kernel itself sets the inline one
        found.append(
            Finding(
                "warn",
                "determinism",
                f"MPLBACKEND={os.environ['MPLBACKEND']} is set: notebook "
                "figures will not be stored, and strict nbval will fail",
                "unset MPLBACKEND",
            )
        )
    threads = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    shown = ", ".join(f"{k}={v or 'unset'}" for k, v in threads.items())
    found.append(
        Finding(
            "ok",
            "determinism",
            f"{shown}; notebooks print rounded numbers, so BLAS threading does not change their output",
        )
    )
    return found


def diagnose() -> list[Finding]:
    """Collect every finding: Python, packages, backend, GPU, determinism settings."""
    py_ok = sys.version_info >= (3, 10)
    findings = [
        Finding(
            "ok" if py_ok else "error",
            "python",
            f"Python {platform.python_version()} on {platform.system()}",
            "" if py_ok else "install Python 3.10 or newer",
        )
    ]
    return findings + _packages() + _backend() + _gpu() + _determinism()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gdcourse doctor``."""
    parser.add_argument("--quiet", action="store_true", help="print only problems")


def report(quiet: bool = False, findings: list[Finding] | None = None) -> None:
    """Print the findings (only warnings and problems when ``quiet``) and a closing count.

    Parameters
    ----------
    quiet : bool
        Print only warnings and problems (and the count).
    findings : list of Finding, optional
        What to print; default: a fresh :func:`diagnose`.
    """
    marks = {"ok": "ok  ", "info": "info", "warn": "WARN", "error": "FAIL"}
    findings = diagnose() if findings is None else findings
    for f in findings:
        if quiet and f.level in ("ok", "info"):
            continue
        print(f"[{marks[f.level]}] {f.topic:<11} {f.text}")
        if f.fix:
            print(f"{'':18}fix: {f.fix}")
    problems = sum(f.level == "error" for f in findings)
    warnings = sum(f.level == "warn" for f in findings)
    print(f"gdcourse doctor: {problems} problem(s), {warnings} warning(s)")


def run(args: argparse.Namespace) -> int:
    """Print the report; exit status 1 when something required is missing."""
    findings = diagnose()
    report(args.quiet, findings)
    return 1 if any(f.level == "error" for f in findings) else 0
