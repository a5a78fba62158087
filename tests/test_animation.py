"""gdcourse.plots.animation: an animation that strict nbval can compare byte for byte, and that plays offline."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # only inside this test process

import numpy as np
import pytest
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from PIL import Image

from gdcourse import functions as F
from gdcourse import optim
from gdcourse.descent import minimize
from gdcourse.plots.animation import AnimationHTML, animate_paths, compress_frames, deterministic_ids

FRAME = re.compile(r'frames\[(\d+)\] = "data:image/png;base64,([A-Za-z0-9+/=]+)"')

SCRIPT = """
import numpy as np
from gdcourse import functions as F, optim
from gdcourse.descent import minimize
from gdcourse.plots import use_course_style
from gdcourse.plots.animation import animate_paths
import hashlib
use_course_style()
q = F.Quadratic(kappa=20, L=1.0, angle=0.5)
runs = [minimize(q, np.array(q.start), lr=0.09, max_iter=12, label="GD"),
        minimize(q, np.array(q.start), optimizer=optim.heavy_ball(0.5, 0.6), max_iter=12, label="heavy ball")]
print(hashlib.sha256(animate_paths(q, runs, n_frames=6, name="test").html.encode()).hexdigest())
"""


@pytest.fixture(scope="module")
def runs():
    q = F.Quadratic(kappa=20, L=1.0, angle=0.5)
    return q, [
        minimize(q, np.array(q.start), lr=0.09, max_iter=12, label="GD"),
        minimize(q, np.array(q.start), optimizer=optim.heavy_ball(0.5, 0.6), max_iter=12, label="heavy ball"),
    ]


def _raw_jshtml():
    fig = Figure(figsize=(2, 2), dpi=30)
    ax = fig.subplots()
    (line,) = ax.plot([], [])

    def draw(k):
        line.set_data([0, k], [0, k])
        return [line]

    return FuncAnimation(fig, draw, frames=3).to_jshtml()


def test_matplotlib_player_ids_are_random_and_deterministic_ids_fix_them():
    first, second = _raw_jshtml(), _raw_jshtml()
    assert first != second  # the reason this module exists: a uuid4 per call
    assert re.sub(r"[0-9a-f]{32}", "ID", first) == re.sub(r"[0-9a-f]{32}", "ID", second)  # ... and nothing else
    fixed = deterministic_ids(first, "demo")
    assert fixed == deterministic_ids(second, "demo")
    assert not re.search(r"[0-9a-f]{32}", fixed)
    player_id = re.search(r'id="_anim_img(\w+)"', fixed).group(1)
    assert player_id.startswith("demo_") and f"anim{player_id} = new Animation" in fixed
    assert deterministic_ids(first, "other") != fixed


def test_player_needs_no_network():
    fixed = deterministic_ids(_raw_jshtml(), "demo")
    assert "https://" not in fixed and "font-awesome" not in fixed
    assert '<i class="fa' not in fixed
    assert 'onclick="anim' in fixed  # the buttons are still there, with Unicode labels


def test_deterministic_ids_rejects_other_html():
    with pytest.raises(ValueError, match="no animation player"):
        deterministic_ids("<p>hello</p>", "x")


def test_animation_is_byte_identical_on_every_call(runs):
    q, histories = runs
    first = animate_paths(q, histories, n_frames=6, name="test")
    second = animate_paths(q, histories, n_frames=6, name="test")
    assert isinstance(first, AnimationHTML)
    assert first.html == second.html
    assert first._repr_html_() == first.html
    assert repr(first) == "<animation 'test': 6 frames>"


def test_animation_is_byte_identical_in_a_fresh_process(runs):
    """What strict nbval needs: another kernel, another process, the same bytes."""
    q, histories = runs
    from gdcourse.plots import course_style

    with course_style():
        here = hashlib.sha256(animate_paths(q, histories, n_frames=6, name="test").html.encode()).hexdigest()
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == here
    assert done.stderr == ""


def test_frames_are_small_palette_pngs_showing_the_runs_step_by_step(runs):
    q, histories = runs
    anim = animate_paths(q, histories, n_frames=6, name="test", figsize=(4.0, 3.0), dpi=50)
    frames = FRAME.findall(anim.html)
    assert [int(i) for i, _ in frames] == list(range(6)) and anim.n_frames == 6
    images = [Image.open(io.BytesIO(base64.b64decode(data))) for _, data in frames]
    assert all(im.format == "PNG" and im.mode == "P" and im.size == (200, 150) for im in images)
    assert len({data for _, data in frames}) == 6  # every frame differs: the paths grow
    assert len(anim.html) < 6 * 12_000 + 20_000


def test_frame_steps_cover_the_longest_run_without_repeats(runs):
    q, histories = runs
    short = minimize(q, np.array(q.start), lr=0.09, max_iter=3, label="short")
    anim = animate_paths(q, [*histories, short], n_frames=40, name="test")
    assert anim.n_frames == 13  # steps 0..12, each once, although 40 frames were allowed


def test_compress_frames_keeps_the_picture():
    fig = Figure(figsize=(2, 2), dpi=40)
    fig.subplots().plot([0, 1], [0, 1], color="#D55E00", linewidth=4)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    html = 'x = "data:image/png;base64,' + base64.encodebytes(buffer.getvalue()).decode().replace("\n", "\\\n") + '"'
    small = compress_frames(html)
    (data,) = re.findall(r"base64,([A-Za-z0-9+/=]+)\"", small)
    before = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), dtype=float)
    after = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"), dtype=float)
    assert before.shape == after.shape and np.abs(before - after).mean() < 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_frames": 1}, "n_frames"), ({"n_frames": 61}, "n_frames"), ({"interval": 0}, "interval")],
)
def test_animate_paths_rejects_bad_arguments(runs, kwargs, match):
    q, histories = runs
    with pytest.raises(ValueError, match=match):
        animate_paths(q, histories, **kwargs)


def test_animate_paths_needs_2d_runs():
    q = F.Quadratic()
    with pytest.raises(ValueError, match="empty"):
        animate_paths(q, [])
    with pytest.raises(ValueError, match="expected 2"):
        animate_paths(q, [np.zeros((3, 3))])
