"""Numbers in the notebooks' prose come from their cells (issue #19).

Every decimal number written in a notebook's markdown (``0.984``, ``1.27``) must appear in one of that
notebook's code cells or stored outputs: a number a run produced is printed by the cell that produced it,
and the prose quotes the printout. The exceptions are listed below, each with why it is not printed: a
value the text *sets* (an exercise's input), one the text *derives* by a formula it shows, a section
number of a cited book, or a measurement made outside the notebook and said to be so. A new number in the
prose that is none of these fails until it is printed (or listed here with its reason).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NUMBER = re.compile(r"(?<![\w.^{])(\d+\.\d+)(?!\w)(?!\.\d)")

NOT_PRINTED: dict[str, dict[str, str]] = {
    "05": {"1.28": "set: the next doubling of η in the text", "1.2": "set: the exercise's input"},
    "06": {
        "0.02": "set: the valley's smallest curvature, as the text defines the problem",
        "3.07": "derived: Polyak's η* = 4/(√L + √μ)² from the formula beside it",
        "0.67": "derived: Polyak's β* from the formula beside it (an option of 06.ringing)",
        "0.008": "derived: the gradient θe^{−θ²/2} at the stated start θ = 3.5",
    },
    "07": {
        "3.2": "derived: 1/√(1−β₂) = 1/√0.1 in exercise 07.first_step's option",
        "0.032": "derived: √(1−β₂^1) = √0.001 in the same option",
        "6.6": "derived: the largest ratio of the uncorrected steps, stated with its formula",
    },
    "08": {"7.8": "a section of Goodfellow, Bengio & Courville", "7.3": "a section of Hastie, Tibshirani & Friedman"},
    "09": {"5.7": "derived: σ√(n/2) for the stated σ and n", "1.7": "derived: the tanh gain 5/3, rounded"},
    "10": {
        "0.0003": "read off the EI curves of the figure, as the text says",
        "0.5": "set: the range of β* the text describes, from the surface's definition",
    },
    "11": {
        "26.7": "benchmarks/nb11_batch_throughput.py (said so): examples per second at B = 32 over B = 1, one thread",
        "2.26": "benchmarks/nb11_batch_throughput.py (said so): examples per second at B = 256 over B = 32",
        "0.86": "benchmarks/nb11_batch_throughput.py (said so): examples per second at B = 1024 over B = 256",
    },
    "12": {
        "0.011": "benchmarks/nb12_long_runs.py (said so): the MLP's validation loss at 50 epochs; and 1/91 of accuracy",
        "0.005": "benchmarks/nb12_long_runs.py (said so): the MLP's validation loss at 100 epochs",
        "0.017": "benchmarks/nb12_long_runs.py (said so): the LSTM's validation MSE after 60 epochs",
        "0.986": "benchmarks/nb12_long_runs.py (said so): the CNN's validation accuracy at 50 epochs",
        "0.95": "set: the target accuracy of exercise 12.train_to_target",
    },
}


def _printed(nb) -> str:
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") if isinstance(out.get("text", ""), str) else "")
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def prose_numbers(path: Path) -> list[tuple[int, str]]:
    """``(cell index, number)`` for every decimal number in the notebook's markdown."""
    nb = nbformat.read(path, as_version=4)
    return [(i, m) for i, c in enumerate(nb.cells) if c.cell_type == "markdown" for m in NUMBER.findall(c.source)]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_number_in_the_prose_is_printed_by_a_cell_or_listed_with_its_reason(path):
    nb = nbformat.read(path, as_version=4)
    printed, allowed = _printed(nb), NOT_PRINTED.get(path.name[:2], {})
    unprinted = [(i, n) for i, n in prose_numbers(path) if n not in printed and n not in allowed]
    assert not unprinted, f"numbers in the prose that no cell prints (cell, number): {unprinted}"
    stale = sorted(set(allowed) - {n for _, n in prose_numbers(path)})
    assert not stale, f"listed as not printed but no longer in the prose: {stale}"


def test_the_check_sees_a_number_no_cell_printed(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("The rate is 0.818."), nbformat.v4.new_code_cell("print(0.82)")]
    path = tmp_path / "99_demo.ipynb"
    nbformat.write(nb, path)
    assert prose_numbers(path) == [(0, "0.818")] and "0.818" not in _printed(nb)
