"""One notation for the whole course (issue #19).

The table under "## Notation" in notebook 00 gives every symbol the course relies on one meaning. A notebook may
depart from it only where the departure is standard in its field (the name a library or a paper uses) and renaming
would confuse. It then says so where the symbol first appears, in a markdown paragraph that starts with
"**Notation.**", and the departure is recorded in EXCEPTIONS below. Everything else is fixed in the notebook.

A Notation paragraph writes in math (``$...$``) only the symbols it is about; the table's other symbols it names in
words (e.g. "not the penalty strength of notebook 08"). That is what lets the tests tell which departures a paragraph
states. These tests read the stored source notebooks (markdown cells) without a kernel.
"""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
NOTATION = "**Notation.**"

# Every departure from the table of notebook 00 that a notebook keeps: (notebook, symbol as in the table, its meaning
# there). Each one is stated in a "**Notation.**" paragraph of that notebook.
EXCEPTIONS = [
    (3, "p", "a predicted probability; the number of features only in array shapes such as (n, p)"),
    (4, "L", "the output of a computation graph, a loss (`L.backward()` in the code)"),
    (4, "t", "a target value (`t` in the code)"),
    (4, "p", "the predicted probability (section 4)"),
    (7, r"\alpha", "RMSprop's decay rate (torch's `alpha`)"),
    (7, r"\lambda", "the weight-decay strength of section 6 (torch's `weight_decay`)"),
    (9, "n", "the width of a layer, its fan-in or fan-out (as in the plots' labels)"),
    (10, r"\lambda", "the L2 strength, a hyperparameter (printed as λ by the code)"),
    (10, r"\mu", "the mean μ(h) that the Gaussian process predicts"),
    (10, r"\sigma(\cdot)", "the standard deviation σ(h) that the Gaussian process predicts"),
    (12, "n", "the length of a convolution's input"),
    (12, "p", "the padding of a convolution (PyTorch's `padding`)"),
    (12, "t", "a position in a sequence, a time step"),
]

# The rows the course relies on.
REQUIRED = [
    r"\theta", "J", r"\nabla J", r"\ell", r"\eta", "t", "n", "p", "B", r"\beta",
    r"\lambda", "L", r"\mu", r"\kappa", r"\alpha", r"\sigma(\cdot)", r"\sigma",
]

_CALL = r"\s*(?:\\left|\\bigl|\\big|\\Bigl|\\Big)?\("  # an argument follows: σ(z), L\big(w\big)


def _path(number):
    return next(p for p in SOURCES if int(p.name[:2]) == number)


def _markdown(path):
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


def _math(text):
    """The math of markdown text: the contents of $...$ and $$...$$, code spans left out."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", " ", text)
    return [a or b for a, b in re.findall(r"\$\$(.+?)\$\$|\$([^$]+?)\$", text, flags=re.S)]


def _pattern(symbol):
    """A regex that finds the table's symbol in LaTeX math (σ with an argument is the sigmoid, without it a spread)."""
    if symbol == r"\sigma(\cdot)":
        return re.compile(r"\\sigma" + _CALL)
    if symbol == r"\sigma":
        return re.compile(r"\\sigma(?![A-Za-z])(?!" + _CALL + ")")
    if symbol == r"\nabla J":
        return re.compile(r"\\nabla\s*J(?![A-Za-z])")
    if symbol.startswith("\\"):
        return re.compile(re.escape(symbol) + r"(?![A-Za-z])")
    return re.compile(r"(?<![A-Za-z\\])" + re.escape(symbol) + r"(?![A-Za-z])")


def _table():
    """{symbol: meaning} from the table under "## Notation" in notebook 00."""
    cells = [s for s in _markdown(SOURCES[0]) if s.startswith("## Notation")]
    assert len(cells) == 1, "notebook 00 must have exactly one '## Notation' cell"
    lines = [line for line in cells[0].splitlines() if line.startswith("|")]
    assert lines[:2] == ["| symbol | meaning |", "|---|---|"], lines[:2]
    table = {}
    for line in lines[2:]:
        match = re.fullmatch(r"\| \$([^$]+)\$ \| (.+) \|", line)
        assert match, f"a row of the table is not '| $symbol$ | meaning |': {line!r}"
        symbol, meaning = match.groups()
        assert symbol not in table, f"two rows for {symbol}: one line per symbol"
        table[symbol] = meaning
    return table


def _notation_paragraphs(path):
    return [paragraph.strip() for source in _markdown(path) for paragraph in re.split(r"\n\s*\n", source)
            if paragraph.strip().startswith(NOTATION)]


def _symbols_in(text, table):
    math = " ".join(_math(text))
    return {symbol for symbol in table if _pattern(symbol).search(math)}


def _excepted(number, symbol):
    return any((n, s) == (number, symbol) for n, s, _ in EXCEPTIONS)


def test_the_table_has_the_rows_the_course_relies_on():
    table = _table()
    missing = [symbol for symbol in REQUIRED if symbol not in table]
    assert not missing, f"the notation table of notebook 00 lacks {missing}"


def test_every_exception_departs_from_a_row_of_the_table():
    table = _table()
    for number, symbol, meaning in EXCEPTIONS:
        assert symbol in table, f"notebook {number:02d}: {symbol} is not a symbol of the table, so nothing departs"
        assert meaning.strip(), f"notebook {number:02d}: say what {symbol} means there"
        assert number in [int(p.name[:2]) for p in SOURCES[1:]], f"no notebook {number:02d}"
    pairs = [(number, symbol) for number, symbol, _ in EXCEPTIONS]
    assert len(pairs) == len(set(pairs)), "an exception is listed twice"


@pytest.mark.parametrize("number, symbol, meaning", EXCEPTIONS, ids=lambda v: str(v))
def test_every_exception_is_stated_in_its_notebook(number, symbol, meaning):
    table = _table()
    stated = [p for p in _notation_paragraphs(_path(number)) if symbol in _symbols_in(p, table)]
    assert stated, (f"notebook {number:02d} uses {symbol} for {meaning!r} but no paragraph starting with {NOTATION} "
                    f"says so (writing the symbol in math, e.g. ${symbol}$)")


@pytest.mark.parametrize("path", SOURCES[1:], ids=lambda p: p.name)
def test_every_notation_paragraph_is_recorded(path):
    table = _table()
    number = int(path.name[:2])
    text = "\n\n".join(_markdown(path))
    paragraphs = _notation_paragraphs(path)
    assert text.count(NOTATION) == len(paragraphs), f"{NOTATION} must start its own paragraph"
    for paragraph in paragraphs:
        symbols = _symbols_in(paragraph, table)
        assert symbols, f"a Notation paragraph names no symbol of the table (in math): {paragraph!r}"
        unrecorded = sorted(s for s in symbols if not _excepted(number, s))
        assert not unrecorded, (f"notebook {number:02d} states a departure for {unrecorded} that EXCEPTIONS does not "
                                f"list (or names another symbol of the table in math): {paragraph!r}")


# Guards on two clashes of issue #19 that a regex can see. L is the smoothness: no loss is written L(...), ∇L or ∂L.
# λ is a curvature: no penalty is written λ/2‖θ‖², λ‖w‖ or λθ.
LOSS_NAMED_L = re.compile(r"(?<![A-Za-z\\])L" + _CALL + r"|\\(?:nabla|partial)\s*L(?![A-Za-z])")
PENALTY_NAMED_LAMBDA = re.compile(r"\\t?frac\{\\lambda\}\{2\}|\\frac\\lambda2|\\lambda\s*(?:\\lVert|\\theta|w\b)")


def _clashes(path, pattern):
    return [m for source in _markdown(path) for m in _math(source) if pattern.search(m)]


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if not _excepted(int(p.name[:2]), "L")], ids=lambda p: p.name
)  # a notebook that states its L is a loss is checked by test_every_exception_is_stated_in_its_notebook
def test_no_loss_is_called_L_outside_the_exceptions(path):
    assert not _clashes(path, LOSS_NAMED_L), "L is the smoothness; write a loss as ℓ or J"


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if not _excepted(int(p.name[:2]), r"\lambda")], ids=lambda p: p.name
)  # likewise for a notebook that states its λ is a penalty strength
def test_no_penalty_is_called_lambda_outside_the_exceptions(path):
    assert not _clashes(path, PENALTY_NAMED_LAMBDA), "λ is a curvature; write a penalty strength as α"


def test_the_guards_see_the_clashes_of_the_issue():
    assert LOSS_NAMED_L.search(r"\nabla J_\alpha = \nabla L + \alpha w")
    assert LOSS_NAMED_L.search(r"L(w) + \frac{\alpha}{2}\lVert w\rVert^2")
    assert LOSS_NAMED_L.search(r"\partial L/\partial w")
    assert not LOSS_NAMED_L.search(r"\eta < 2/L, \quad 1 - \eta L, \quad \eta^\star = 2/(L+\mu), \quad L = 1")
    assert PENALTY_NAMED_LAMBDA.search(r"\tfrac{\lambda}{2}\lVert\theta\rVert^2")
    assert PENALTY_NAMED_LAMBDA.search(r"g \leftarrow g + \lambda\theta")
    assert not PENALTY_NAMED_LAMBDA.search(r"(1-\eta\lambda)^t, \quad \lambda_{\max}(X^\top X/n)")
    assert _pattern(r"\sigma(\cdot)").search(r"\sigma(z)") and not _pattern(r"\sigma").search(r"\sigma(z)")
    assert _pattern(r"\sigma").search(r"\sigma^2 = 0.04") and not _pattern(r"\sigma(\cdot)").search(r"\sigma^2")
    assert _pattern("n").search(r"n_{out}") and not _pattern("n").search(r"\nabla J + \sin x")
