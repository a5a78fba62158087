"""A missing test dependency skips a test only outside CI; in CI (``CI`` set, as ``.ci/run`` does) it fails."""

import pytest
from conftest import optional, require

MISSING = "gdcourse_no_such_module"


def test_a_missing_dependency_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=MISSING):
        require(MISSING)
    with pytest.raises(pytest.fail.Exception, match=MISSING):
        optional(MISSING)


def test_a_missing_dependency_skips_or_stands_aside_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=MISSING):
        require(MISSING)
    assert optional(MISSING) is None


def test_an_installed_dependency_is_imported():
    import numpy

    assert require("numpy") is numpy and optional("numpy") is numpy
