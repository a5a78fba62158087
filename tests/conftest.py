"""Shared fixtures: run unit tests on every array backend named in GDCOURSE_TEST_BACKENDS.

Default: ``numpy`` and ``array_api_strict`` with arrays on its non-host device
``device1``, where any hidden NumPy call inside :mod:`gdcourse` fails, as it
would on CuPy.  On a GPU machine run with ``GDCOURSE_TEST_BACKENDS=numpy,cupy``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gdcourse import backend as B

_ALIASES = {"array_api_strict": "array_api_strict:device1", "strict": "array_api_strict:device1"}


def _requested_backends() -> list[str]:
    names = os.environ.get("GDCOURSE_TEST_BACKENDS", "numpy,array_api_strict")
    specs = [_ALIASES.get(n.strip(), n.strip()) for n in names.split(",") if n.strip()]
    for spec in specs:
        if spec.startswith("cupy"):
            try:
                import cupy

                cupy.cuda.runtime.getDeviceCount()
            except Exception as err:  # noqa: BLE001 - any failure means no usable GPU
                raise pytest.UsageError(
                    f"GDCOURSE_TEST_BACKENDS names cupy but no CUDA GPU is usable here ({err})"
                ) from err
    return specs


BACKENDS = _requested_backends()


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The active :class:`gdcourse.backend.Backend` for one test (restored afterwards)."""
    with B.using(request.param) as active:
        yield active


@pytest.fixture
def xp(backend):
    """The array namespace of the active backend."""
    return backend.xp


@pytest.fixture
def to_backend(backend):
    """Move host data to the active backend: ``to_backend(np.array(...), dtype=None)``."""

    def move(x, dtype=None):
        return B.asarray(np.asarray(x), dtype=dtype)

    return move


def skip_outside_ci(reason: str) -> None:
    """Skip the calling test (or module) outside CI; in CI (``CI`` set, as ``.ci/run`` does) fail instead.

    The README's install (``make test``) and ``.ci/run`` install every test dependency, so in CI a missing
    one is a broken setup to report, never a test quietly not run.
    """
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs it: see .ci/run)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require(module: str) -> Any:
    """Import a test dependency of the ``test``/``verify`` extras; without it: :func:`skip_outside_ci`."""
    try:
        return importlib.import_module(module)
    except ImportError:
        skip_outside_ci(f"{module} is not installed: pip install -e '.[test,verify]'")


def optional(module: str) -> Any:
    """Import ``module`` or return ``None`` where a test has a stand-in (recorded fixtures); in CI it must import."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed; CI installs it (.ci/run)", pytrace=False)
        return None


@functools.cache
def torch_fixture_script() -> Any:
    """``tests/fixtures/make_torch_fixtures.py`` as a module (its option grid, hyperparameters and ``load``)."""
    path = Path(__file__).parent / "fixtures" / "make_torch_fixtures.py"
    spec = importlib.util.spec_from_file_location("make_torch_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
