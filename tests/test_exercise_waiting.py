"""``uses_answer``: a cell that uses an unwritten answer says so in one line; real errors still show."""

from __future__ import annotations

import pytest

from gdcourse.exercises import uses_answer

WAITING = "(this cell uses your answer to 02.mse_grad, which is not written yet: run it again once it is)\n"


def stub(*args):
    raise NotImplementedError()


def test_a_stub_is_waited_for(capsys):
    with uses_answer("02.mse_grad"):
        stub(1, 2)
        print("never printed")
    assert capsys.readouterr().out == WAITING


def test_a_value_left_as_ellipsis_is_waited_for(capsys):
    answer = ...
    with uses_answer("02.mse_grad"):
        print(answer * 2)
    assert capsys.readouterr().out == WAITING


def test_a_written_answer_runs_and_real_errors_propagate(capsys):
    with uses_answer("02.mse_grad"):
        print("ran")
    assert capsys.readouterr().out == "ran\n"
    with pytest.raises(TypeError, match="unsupported operand"), uses_answer("02.mse_grad"):
        print("a" - 1)
    with pytest.raises(ZeroDivisionError), uses_answer("02.mse_grad"):
        print(1 / 0)
