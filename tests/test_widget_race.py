"""Tests of the optimizer race (gdcourse.widgets.race): runs, scoring, standings, figure and widget."""

from __future__ import annotations

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebooks keep the inline backend

import ipywidgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from gdcourse import functions as F
from gdcourse import optim, plots
from gdcourse.descent import minimize
from gdcourse.plots.animation import AnimationHTML
from gdcourse.widgets import Race, RaceState, draw_race, race, race_state
from gdcourse.widgets.race import (
    DEFAULT_LRS,
    RACER_COLORS,
    RACERS,
    TRACKS,
    _frame_steps,
    animate_race,
    race_score,
    run_racer,
)

# ----------------------------------------------------------------------------- one racer


def test_run_racer_is_minimize_with_the_named_optimizer():
    beale = F.Beale()
    history = run_racer(beale, "Adam", 0.1, n_steps=30)
    expected = minimize(beale, np.asarray(beale.start), optimizer=optim.adam(0.1), max_iter=30)
    np.testing.assert_array_equal(history.path, expected.path)
    assert history.label == "Adam η=0.1" and history.n_iter == 30
    momentum = run_racer(beale, "momentum", 0.001, n_steps=5)
    ref = minimize(beale, np.asarray(beale.start), optimizer=optim.sgd(0.001, momentum=0.9), max_iter=5)
    np.testing.assert_array_equal(momentum.path, ref.path)


def test_run_racer_stops_a_diverging_run_without_raising():
    history = run_racer(F.Beale(), "GD", 1.0, n_steps=50)
    assert history.stop_reason == "diverged" and history.n_iter < 50


def test_on_the_saddle_a_run_is_cut_where_it_leaves_the_map():
    saddle = F.Saddle()
    full = minimize(saddle, np.asarray(saddle.start), optimizer=optim.gd(0.3), max_iter=100, on_divergence="stop")
    cut = run_racer(saddle, "GD", 0.3, n_steps=100)
    k = cut.n_iter
    assert cut.stop_reason == "left the map" and cut.message == f"left the map at step {k + 1}"
    assert np.all(np.abs(cut.path) <= 2.0)  # the saddle's domain is [-2, 2]²
    assert np.any(np.abs(full.path[k + 1]) > 2.0)  # the next iterate is off the map
    np.testing.assert_array_equal(cut.path, full.path[: k + 1])
    assert len(cut.losses) == len(cut.grad_norms) == k + 1 and len(cut.lrs) == k


@pytest.mark.parametrize(("name", "lr"), [("Nesterov", 0.1), ("Adam", 0.0), ("Adam", float("nan")), ("GD", -1.0)])
def test_run_racer_rejects_unknown_names_and_bad_rates(name, lr):
    with pytest.raises(ValueError, match="racer|lr"):
        run_racer(F.Beale(), name, lr)


# ----------------------------------------------------------------------------- scoring


def test_score_with_a_known_minimum_is_the_final_gap():
    beale = F.Beale()
    history = run_racer(beale, "RMSprop", 0.1, n_steps=100)
    key, text = race_score(beale, history)
    assert key == (0, pytest.approx(history.final_loss - beale.f_min))
    assert text == f"J − J* = {history.final_loss:.2g}"
    diverged = run_racer(beale, "GD", 1.0, n_steps=50)
    assert race_score(beale, diverged) == ((2, float(diverged.n_iter)), f"diverged at step {diverged.n_iter}")


def test_score_on_the_saddle_counts_the_steps_to_escape():
    saddle = F.Saddle()
    fast = run_racer(saddle, "Adam", 0.1, n_steps=200)
    key, text = race_score(saddle, fast)
    t = int(np.flatnonzero(fast.losses <= -1.0)[0])
    assert key == (0, t) and text == f"escaped at step {t}"
    assert fast.losses[t - 1] > -1.0
    slow = run_racer(saddle, "GD", 1e-3, n_steps=50)  # y grows by 1.002 per step: still at the saddle
    key, text = race_score(saddle, slow)
    assert key == (1, slow.final_loss) and text == f"J = {slow.final_loss:.3g} after 50 steps"
    thrown = run_racer(saddle, "GD", 3.0, n_steps=50)  # x ← (1 - 6)x: off the map at once, along x
    key, text = race_score(saddle, thrown)
    assert key[0] == 2 and text == "thrown off the map at step 1"
    assert race_score(saddle, slow, escape_level=2.0)[0][0] == 0  # the level is a parameter


# ----------------------------------------------------------------------------- standings


def test_race_state_ranks_the_runs():
    state = race_state(F.Beale(), {"GD": 0.0316, "Adam": 0.1, "Adagrad": 1.0}, n_steps=150)
    assert isinstance(state, RaceState)
    assert list(state.histories) == ["GD", "Adam", "Adagrad"]  # the order given
    gaps = {name: h.final_loss for name, h in state.histories.items()}
    ranked = sorted(gaps, key=gaps.get)
    assert state.status.startswith("150 steps — 1. " + ranked[0] + ": J − J* = ")
    positions = [state.status.index(f"{i}. {name}:") for i, name in enumerate(ranked, 1)]
    assert positions == sorted(positions)


def test_race_state_with_nobody_and_bad_steps():
    assert race_state(F.Beale(), {}) == RaceState({}, "no optimizer chosen: tick at least one")
    with pytest.raises(ValueError, match="n_steps"):
        race_state(F.Beale(), {"GD": 0.01}, n_steps=0)


def test_race_state_is_the_same_on_every_backend(backend, to_backend):
    beale = F.Beale()
    lrs = {"GD": 0.0316, "RMSprop": 0.1, "Adadelta": 10.0}
    reference = race_state(beale, lrs, n_steps=40, theta0=np.asarray(beale.start))
    state = race_state(beale, lrs, n_steps=40, theta0=to_backend(beale.start))
    assert state.status == reference.status
    for name in lrs:
        np.testing.assert_allclose(state.histories[name].path, reference.histories[name].path, rtol=1e-12)


@pytest.mark.parametrize("track", list(TRACKS))
def test_default_rates_beat_their_neighbours_on_the_grid(track):
    """DEFAULT_LRS are the best of the grid 10**arange(-4, 1.01, 0.5): no better at a half-decade either side."""
    objective = TRACKS[track]()
    grid = 10 ** np.arange(-4, 1.01, 0.5)
    for name, lr in DEFAULT_LRS[track].items():
        i = int(np.argmin(np.abs(np.log10(grid) - np.log10(lr))))
        assert grid[i] == pytest.approx(lr, rel=2e-3)
        best = race_score(objective, run_racer(objective, name, float(grid[i])))[0]
        for j in (i - 1, i + 1):
            if 0 <= j < len(grid):
                assert best <= race_score(objective, run_racer(objective, name, float(grid[j])))[0], (name, grid[j])


# ----------------------------------------------------------------------------- the figure


@pytest.mark.parametrize("track", list(TRACKS))
def test_draw_shows_every_path_and_every_cost(track):
    objective = TRACKS[track]()
    state = race_state(objective, {"GD": 1e-3, "Adam": 0.1, "RMSprop": 0.01}, n_steps=60)
    fig = draw_race(objective, state.histories)
    assert isinstance(fig, Figure)
    ax_path, ax_loss = fig.axes[:2]
    lines = plots.trajectory_lines(ax_path)
    assert [ln.get_label() for ln in lines] == [h.label for h in state.histories.values()]
    for line, history in zip(lines, state.histories.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), history.path[:, 0])
    assert len(plots.trajectory_lines(ax_loss)) == 3
    assert (ax_path.get_xlim(), ax_path.get_ylim()) == tuple(tuple(d) for d in objective.domain)
    assert ax_loss.get_yscale() == ("linear" if track == "saddle" else "log")
    again = draw_race(objective, state.histories, fig=fig, title="standings")
    assert again is fig and len(plots.trajectory_lines(fig)) == 6 and fig.get_suptitle() == "standings"


def test_every_racer_keeps_its_colour_whoever_runs():
    beale = F.Beale()
    fig = draw_race(beale, race_state(beale, {"Adam": 0.1, "RMSprop": 0.01}, n_steps=10).histories)
    for ax in fig.axes[:2]:
        assert [ln.get_color() for ln in plots.trajectory_lines(ax)] == [RACER_COLORS["Adam"], RACER_COLORS["RMSprop"]]
    assert len(set(RACER_COLORS.values())) == len(RACERS)
    runs = race_state(beale, {"GD": 0.01}, n_steps=5).histories
    fig = draw_race(beale, [runs["GD"], runs["GD"]])  # a sequence: colours not taken by the racers
    colors = [ln.get_color() for ln in plots.trajectory_lines(fig.axes[0])]
    assert colors[0] != colors[1] and not set(colors) & set(RACER_COLORS.values())


def test_draw_on_the_saddle_keeps_the_cost_axis_on_the_map():
    saddle = F.Saddle()
    state = race_state(saddle, {"GD": 0.3, "Adam": 0.1}, n_steps=200)
    low, high = draw_race(saddle, state.histories).axes[1].get_ylim()
    assert -5.0 < low < -2.0 and 2.25 < high < 3.0  # J ranges over about [-4, 4] on the map


def test_draw_with_no_runs():
    fig = draw_race(F.Beale(), {})
    assert plots.trajectory_lines(fig) == []


# ----------------------------------------------------------------------------- the animation


def _short_races():
    tracks = {"Beale": F.Beale(), "saddle": F.Saddle()}
    runs = {
        "Beale": race_state(tracks["Beale"], {"GD": 0.03, "Adam": 0.1}, n_steps=20).histories,
        "saddle": race_state(tracks["saddle"], {"GD": 0.3, "Adam": 0.1}, n_steps=20).histories,
    }
    return tracks, runs


def _frames(html_text):
    return [base64.b64decode(f.replace("\\\n", "")) for f in re.findall(
        r'data:image/png;base64,((?:[A-Za-z0-9+/=]|\\\n)+)"', html_text)]


def test_animation_is_a_deterministic_offline_player():
    tracks, runs = _short_races()
    first = animate_race(tracks, runs, n_frames=6, name="t07")
    again = animate_race(tracks, runs, n_frames=6, name="t07")
    assert isinstance(first, AnimationHTML) and first.html == again.html  # strict nbval compares the bytes
    assert first._repr_html_() == first.html and repr(first) == f"<animation 't07': {first.n_frames} frames>"
    assert re.search(r'id="_anim_imgt07_[0-9a-f]{12}"', first.html)
    assert not re.search(r"[0-9a-f]{32}", first.html)  # no uuid left
    assert "font-awesome" not in first.html  # no stylesheet from a CDN
    frames = _frames(first.html)
    assert len(frames) == first.n_frames and all(f.startswith(b"\x89PNG") for f in frames)


def test_animation_frames_keep_every_racer_colour():
    tracks, runs = _short_races()
    last = _frames(animate_race(tracks, runs, n_frames=4).html)[-1]
    pixels = np.asarray(Image.open(io.BytesIO(last)).convert("RGB")).reshape(-1, 3).astype(int)
    for hex_color in (RACER_COLORS["GD"], RACER_COLORS["Adam"]):
        rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
        assert np.min(np.abs(pixels - rgb).sum(axis=1)) < 30, hex_color


def test_frame_steps_are_geometric_from_zero_to_the_end():
    steps = _frame_steps(200, 25)
    assert steps[0] == 0 and steps[-1] == 200 and np.all(np.diff(steps) > 0)
    assert np.all(np.diff(steps)[:5] == 1)  # every early step is shown
    assert list(_frame_steps(3, 10)) == [0, 1, 2, 3]


@pytest.mark.parametrize(("kwargs", "match"), [({"n_frames": 1}, "n_frames"), ({"n_frames": 61}, "n_frames")])
def test_animation_rejects_bad_frame_counts(kwargs, match):
    tracks, runs = _short_races()
    with pytest.raises(ValueError, match=match):
        animate_race(tracks, runs, **kwargs)


def test_animation_needs_runs_for_every_track():
    tracks, runs = _short_races()
    with pytest.raises(ValueError, match="one entry per track"):
        animate_race(tracks, {"Beale": runs["Beale"]})


# ----------------------------------------------------------------------------- the widget


def test_race_widget_is_a_vbox_with_a_stable_repr():
    widget = race()
    assert isinstance(widget, Race) and isinstance(widget, ipywidgets.VBox)
    text = widget._repr_mimebundle_()["text/plain"]
    assert text == repr(widget) == (
        "Race(beale, 200 steps: GD η=0.0316, momentum η=0.00316, RMSprop η=0.1, Adam η=3.16)"
    )
    assert not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)
    assert set(widget.checkboxes) == set(widget.lr_sliders) == set(RACERS)
    assert isinstance(widget.track, ipywidgets.Dropdown) and list(widget.track.options) == list(TRACKS)
    (out,) = widget.output.outputs
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    assert widget.status.value.startswith("<b>200 steps — 1. ")
    assert len(plots.trajectory_lines(widget.figure.axes[0])) == 4


def test_ticking_and_sliding_rerun_the_race():
    widget = race(optimizers=("GD",), n_steps=50)
    png = widget.output.outputs[0]["data"]["image/png"]
    widget.checkboxes["Adagrad"].value = True
    assert list(widget.state.histories) == ["GD", "Adagrad"]
    assert len(plots.trajectory_lines(widget.figure.axes[0])) == 2
    assert widget.output.outputs[0]["data"]["image/png"] != png
    widget.lr_sliders["GD"].value = 0.01
    assert widget.state.histories["GD"].lrs[0] == pytest.approx(0.01)
    widget.steps_slider.value = 20
    assert all(h.n_iter == 20 for h in widget.state.histories.values())
    widget.checkboxes["GD"].value = widget.checkboxes["Adagrad"].value = False
    assert widget.state.histories == {} and "no optimizer" in widget.status.value
    assert repr(widget) == "Race(beale, 20 steps: no racers)"


def test_changing_track_resets_the_rates_and_redraws_once(monkeypatch):
    widget = race(optimizers=("GD", "Adam"), n_steps=60)
    calls = []
    original = widget.update
    monkeypatch.setattr(widget, "update", lambda: (calls.append(1), original()))
    widget.track.value = "saddle"
    assert len(calls) == 1  # six sliders moved, one redraw
    assert isinstance(widget.objective, F.Saddle)
    assert {n: s.value for n, s in widget.lr_sliders.items()} == pytest.approx(DEFAULT_LRS["saddle"], rel=1e-2)
    assert "escaped" in widget.status.value or "J = " in widget.status.value
    assert widget.figure.axes[1].get_yscale() == "linear"


def test_errors_in_a_callback_show_in_the_status():
    widget = race(optimizers=("GD",), n_steps=10)

    class Broken:
        dim, name, f_min, domain, start = 2, "broken", 0.0, ((-1, 1), (-1, 1)), (0.0, 0.0)

        def value(self, theta):
            raise RuntimeError("boom")

        grad = value

    widget.objective = Broken()
    widget.lr_sliders["GD"].value = 0.02
    assert "error: boom" in widget.status.value


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"track": "himmelblau"}, "unknown track"),
        ({"optimizers": ("GD", "LBFGS")}, "unknown racer"),
        ({"lrs": {"Adam": 100.0}}, "outside lr_range"),
        ({"lr_range": (1.0, 0.1)}, "lr_range"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": 2000}, "n_steps"),
    ],
)
def test_race_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        race(**kwargs)
