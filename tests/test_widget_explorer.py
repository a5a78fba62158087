"""The base of the explorers (gdcourse.widgets._explorer): status line, PNG output, guarded callbacks, helpers."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebooks keep the inline backend

import ipywidgets
import pytest
from matplotlib.figure import Figure
from PIL import Image

from gdcourse.widgets._explorer import Explorer, check_range, figure_output, log_slider, new_or_cleared


class Counter(Explorer):
    """A minimal explorer: one slider, the state is its value, the figure a 2 x 1 inch, 50 dpi canvas."""

    def __init__(self) -> None:
        self.slider = ipywidgets.IntSlider(value=1, min=0, max=5)
        super().__init__(ipywidgets.HBox([self.slider]))
        self.start(self.slider)

    def update(self) -> None:
        if self.slider.value == 0:
            raise ValueError("zero <is> not allowed")
        self.state = int(self.slider.value)
        self.show(new_or_cleared(self.figure, figsize=(2, 1), dpi=50))
        self.set_status(f"value {self.state} & more", warn=self.state > 3)


def png_size(explorer: Explorer) -> tuple[int, int]:
    data = base64.b64decode(explorer.output.outputs[0]["data"]["image/png"])
    return Image.open(io.BytesIO(data)).size


def test_layout_status_and_first_draw():
    explorer = Counter()
    assert list(explorer.children[1:]) == [explorer.status, explorer.output]
    assert explorer.state == 1 and isinstance(explorer.figure, Figure)
    assert explorer.status.value == "<b>value 1 &amp; more</b>"
    explorer.slider.value = 4
    assert explorer.status.value == '<b style="color:#D55E00">value 4 &amp; more</b>'


def test_the_figure_is_reused_and_saved_at_its_own_dpi():
    explorer = Counter()
    first = explorer.figure
    explorer.slider.value = 2
    assert explorer.figure is first
    assert png_size(explorer) == (100, 50)
    with matplotlib.rc_context({"savefig.dpi": 100}):
        explorer.savefig_dpi = None  # rcParams' savefig.dpi instead
        explorer.slider.value = 3
    assert png_size(explorer) == (200, 100)


def test_an_error_in_a_callback_shows_in_the_status_escaped():
    explorer = Counter()
    explorer.slider.value = 0
    assert explorer.status.value == '<b style="color:#D55E00">error: zero &lt;is&gt; not allowed</b>'
    assert explorer.state == 1  # the last good state stays


def test_helpers():
    fig = new_or_cleared(None, figsize=(3, 2))
    assert fig.get_layout_engine() is not None and tuple(fig.get_size_inches()) == (3, 2)
    fig.subplots(1, 2)
    assert new_or_cleared(fig) is fig and not fig.axes
    assert figure_output(fig)["data"]["text/plain"].startswith("<Figure size")
    slider = log_slider(0.1, (1e-3, 10.0))
    assert (slider.min, slider.max, slider.description, slider.continuous_update) == (-3, 1, "η", False)
    assert check_range("lr", (1e-3, 10), 0.5) == (1e-3, 10.0)
    with pytest.raises(ValueError, match=r"lr_range must be \(low, high\)"):
        check_range("lr", (1.0, 0.1))
    with pytest.raises(ValueError, match="alpha=50.0 is outside alpha_range"):
        check_range("alpha", (0.1, 1.0), 50.0)
