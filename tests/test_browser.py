"""End-to-end: the course's figures, widgets and animations work in JupyterLab in a real browser.

Starts JupyterLab on 127.0.0.1 (every Jupyter/IPython/matplotlib config folder and ``HOME``
temporary) and drives Debian's ``/usr/bin/chromium`` headless with the ``playwright`` package
(never ``playwright install``: the test uses the system browser).  It

1. opens ``notebooks/01_update_rule.ipynb``, clears its stored outputs and runs all cells from the
   Run menu, waits for the status bar's "Idle" with every code cell executed;
2. asserts no cell shows a traceback or unexpected stderr, every figure is an ``<img>`` that decoded
   to a non-zero size, and no figure fell back to its ``<Figure size ...>`` text;
3. finds the learning-rate explorer (the slider labelled ``η``), moves it once with the keyboard
   and waits until the explorer's image is redrawn;
4. opens ``notebooks/06_momentum.ipynb`` (trusted in the temporary data folder, so JupyterLab runs
   the stored player's script), presses the animation's Play button and asserts the frames advance;
5. asserts the browser asked for nothing outside localhost.

With ``GDCOURSE_SCREENSHOT=1`` it also saves ``docs/images/explorer.png`` (the explorer cell), the
README's picture.  Needs ``apt-get install chromium`` and ``pip install playwright``; ``.ci/run``
installs both, and in CI (``CI`` set) a missing one is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
NB_EXPLORER = "notebooks/01_update_rule.ipynb"
NB_ANIMATION = "notebooks/06_momentum.ipynb"
SCREENSHOT = ROOT / "docs" / "images" / "explorer.png"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
INSTALL = "apt-get install -y chromium && .venv/bin/pip install playwright  (never `playwright install`)"

# A traceback as JupyterLab shows it: IPython's header, or the last line of a SyntaxError-style report.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*\w*(Error|Exception)\b.*$", re.MULTILINE)

# One look at the page: the status bar, every code cell's prompt, and what its outputs show.
PAGE_SUMMARY_JS = """(panelId) => {
  const panel = document.getElementById(panelId);
  const cells = [...panel.querySelectorAll('.jp-CodeCell')].map((cell) => ({
    prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
    empty: !(cell.querySelector('.jp-InputArea-editor .cm-content') || {}).textContent,
    stderr: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map((e) => e.textContent),
    figureText: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="text/plain"]')]
      .map((e) => e.textContent).filter((t) => t.includes('<Figure size')),
    images: [...cell.querySelectorAll('.jp-OutputArea-output img')]
      .map((img) => ({complete: img.complete, width: img.naturalWidth, height: img.naturalHeight})),
  }));
  const status = [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
    .map((e) => e.textContent).join(' ');
  return {cells, status};
}"""


def _require(condition: bool, what: str) -> None:
    if condition:
        return
    message = f"{what} is needed for the browser test: {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(message + " (.ci/run installs it)")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (kernels run in their own process group)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop(proc: subprocess.Popen) -> None:
    """End the server's process group and the kernels' own groups: TERM, then KILL."""
    below = _descendants(proc.pid)
    groups = {proc.pid}
    for pid in below:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            try:
                os.killpg(group, sig)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            proc.wait(timeout=5)
            if sig == signal.SIGTERM and not any(Path(f"/proc/{pid}").exists() for pid in below):
                return
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.2)


def _lab_environment(tmp: Path) -> dict[str, str]:
    """Environment for JupyterLab and its kernels with every config/data folder temporary."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    folders = {
        "HOME": "home", "JUPYTER_CONFIG_DIR": "jupyter_config", "JUPYTER_DATA_DIR": "jupyter_data",
        "JUPYTER_RUNTIME_DIR": "jupyter_runtime", "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "mpl",
        "JUPYTERLAB_SETTINGS_DIR": "lab_settings", "JUPYTERLAB_WORKSPACES_DIR": "lab_workspaces",
        "XDG_CONFIG_HOME": "xdg_config", "XDG_CACHE_HOME": "xdg_cache", "XDG_DATA_HOME": "xdg_data",
    }
    for var, name in folders.items():
        (tmp / name).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / name)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    settings = tmp / "lab_settings"
    # No "would you like news?" toast over the notebook, and no update check (no network).
    _write_settings(settings, "@jupyterlab/apputils-extension", "notification",
                    {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True})
    # Every cell in the DOM (no virtual scrolling), so the test sees all outputs at once.
    _write_settings(settings, "@jupyterlab/notebook-extension", "tracker", {"windowingMode": "none"})
    return env


def _write_settings(settings_dir: Path, extension: str, plugin: str, values: dict) -> None:
    folder = settings_dir / extension
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values), encoding="utf-8")


def _trust(notebook: Path, data_dir: Path) -> None:
    """Sign ``notebook`` in the temporary data folder: JupyterLab then runs its stored outputs' scripts."""
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary(data_dir=str(data_dir))
    notary.sign(nbformat.read(notebook, as_version=4))


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"JupyterLab did not answer {url} in {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server in the repository root: yields ``(base_url, token, env)``."""
    _require(Path(CHROMIUM).exists(), "Debian's chromium (/usr/bin/chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _require(False, "the playwright Python package")
    tmp = tmp_path_factory.mktemp("lab")
    env = _lab_environment(tmp)
    _trust(ROOT / NB_ANIMATION, Path(env["JUPYTER_DATA_DIR"]))
    port, token = _free_port(), os.urandom(16).hex()
    log = tmp / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={ROOT}", "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(f"{base}/api/status?token={token}", proc, log)
        yield base, token, env
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser_page(lab):
    """A headless Chromium page; every request outside localhost is blocked and recorded."""
    from playwright.sync_api import sync_playwright

    outside: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def _record_outside(url: str, record: list[str]) -> None:
        if urlparse(url).hostname not in LOCAL_HOSTS:
            record.append(url)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1500, "height": 1100}, device_scale_factor=1)
            context.route("**/*", guard)
            page = context.new_page()
            page.on("websocket", lambda ws: _record_outside(ws.url, outside))  # routes do not see websockets
            page.set_default_timeout(30_000)
            yield page, outside
        finally:
            browser.close()


def _open_notebook(page, lab, notebook: str, *, wait_kernel: bool = True):
    """Open ``notebook`` in JupyterLab (and wait for its kernel): returns the panel's locator and id."""
    base, token, _ = lab
    page.goto(f"{base}/lab/tree/{notebook}?reset&token={token}")
    name = Path(notebook).name
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=name)
    tab.wait_for()
    panel_id = tab.get_attribute("data-id")
    panel = page.locator(f"#{panel_id}")
    panel.locator(".jp-Cell").first.wait_for()
    if wait_kernel:
        _wait_idle(page)
    return panel, panel_id


def _wait_idle(page, timeout: float = 60_000) -> None:
    """The status bar's kernel item says Idle (the toolbar's circle says idle before a kernel exists)."""
    page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle\b")).wait_for(timeout=timeout)


def _menu(page, menu: str, item: str) -> None:
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text=re.compile(rf"^{menu}$")).click()
    page.locator(".lm-Menu:visible .lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")).click()


def _run_all(page, panel_id: str, timeout: float = 90) -> dict:
    """Run all cells and wait until every non-empty code cell has a number and the kernel is idle.

    Returns the page summary; stops early (returning it) as soon as a cell shows a traceback.
    """
    _menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(
        """(id) => [...document.getElementById(id).querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                      .every((p) => !/\\d/.test(p.textContent))""",
        arg=panel_id,
    )
    _menu(page, "Run", "Run All Cells")
    deadline = time.monotonic() + timeout
    while True:
        summary = page.evaluate(PAGE_SUMMARY_JS, panel_id)
        code = [c for c in summary["cells"] if not c["empty"]]
        done = all(re.fullmatch(r"\[\d+\]:", c["prompt"].strip()) for c in code)
        if any(TRACEBACK.search(t) for c in summary["cells"] for t in c["stderr"]):
            return summary
        if done and re.search(r"\|\s*Idle\b", summary["status"]):
            return summary
        if time.monotonic() > deadline:
            prompts = [c["prompt"] for c in code]
            raise AssertionError(f"Run All did not finish in {timeout} s: status {summary['status']!r}, {prompts}")
        time.sleep(0.25)


def _stored(notebook: str) -> tuple[int, list[str]]:
    """Number of stored PNG outputs and the stored stderr texts of ``notebook``."""
    cells = json.loads((ROOT / notebook).read_text(encoding="utf-8"))["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    pngs = sum("image/png" in o.get("data", {}) for o in outputs)
    stderr = ["".join(o["text"]) for o in outputs if o.get("name") == "stderr"]
    return pngs, stderr


def test_notebook_01_figures_and_lr_explorer_in_jupyterlab(lab, browser_page):
    page, outside = browser_page
    panel, panel_id = _open_notebook(page, lab, NB_EXPLORER)
    summary = _run_all(page, panel_id)

    # No error output: tracebacks (and stderr the stored notebook does not have; same mime type in the page).
    stored_pngs, stored_stderr = _stored(NB_EXPLORER)
    expected = {" ".join(t.split()) for t in stored_stderr}
    tracebacks = [t for c in summary["cells"] for t in c["stderr"] if TRACEBACK.search(t)]
    assert not tracebacks, "a cell raised:\n" + "\n\n".join(tracebacks)
    stray = [t for c in summary["cells"] for t in c["stderr"] if " ".join(t.split()) not in expected]
    assert not stray, "unexpected stderr output:\n" + "\n\n".join(stray)

    # Figures are images that decoded, not "<Figure size ...>" text (a broken backend shows that).
    assert not [t for c in summary["cells"] for t in c["figureText"]], "a figure was shown as text"
    page.wait_for_function(
        """(id) => [...document.getElementById(id).querySelectorAll('.jp-OutputArea-output img')]
                      .every((img) => img.complete && img.naturalWidth > 0)""",
        arg=panel_id,
    )
    images = page.evaluate(PAGE_SUMMARY_JS, panel_id)["cells"]
    sizes = [img for c in images for img in c["images"]]
    assert len(sizes) >= stored_pngs >= 1, f"{len(sizes)} images in the page, the stored notebook has {stored_pngs}"
    assert all(img["width"] > 0 and img["height"] > 0 for img in sizes), sizes

    # The learning-rate explorer: the slider labelled η, its status line and its figure.
    eta_slider = page.locator(".widget-slider").filter(has=page.locator(".widget-label", has_text=re.compile("^η$")))
    cell = panel.locator(".jp-CodeCell").filter(has=eta_slider)  # `has` takes a locator relative to the cell
    assert cell.count() == 1, f"expected one cell with an η slider, found {cell.count()}"
    slider = cell.locator(".widget-slider").filter(has=page.locator(".widget-label", has_text=re.compile("^η$")))
    image = cell.locator(".widget-output img")
    image.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    readout = slider.locator(".widget-readout")
    status = cell.locator(".widget-html-content")
    before_src, before_value, before_status = image.get_attribute("src"), readout.inner_text(), status.inner_text()
    assert before_src.startswith("data:image/png;base64,")

    if os.environ.get("GDCOURSE_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.mouse.move(1, 1)  # no hover overlay on the output's prompt
        cell.screenshot(path=str(SCREENSHOT), animations="disabled")

    # Move the slider once (keyboard on its handle: End = largest η) and wait for the redraw.
    handle = slider.locator(".noUi-handle")
    handle.focus()
    handle.press("End")
    # The output widget may replace its <img> on redraw: poll through the locator, not one element.
    deadline = time.monotonic() + 30
    while image.get_attribute("src") == before_src:
        assert time.monotonic() < deadline, "the explorer's figure did not change after moving the η slider"
        time.sleep(0.1)
    after_value = readout.inner_text()
    assert after_value != before_value, (before_value, after_value)
    assert status.inner_text() != before_status, "the explorer's status line did not follow the slider"
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    assert not outside, f"the browser asked for outside resources: {outside}"


def test_animation_plays_in_jupyterlab(lab, browser_page):
    page, outside = browser_page
    panel, _ = _open_notebook(page, lab, NB_ANIMATION, wait_kernel=False)  # stored outputs need no kernel
    player = panel.locator(".animation").first
    player.wait_for()
    frame = player.locator("img[id^='_anim_img']")
    slider = player.locator("input.anim-slider")
    # The player's script ran (the notebook is trusted): the first frame is shown and the slider knows the count.
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=frame.element_handle())
    n_frames = int(slider.get_attribute("max") or 0) + 1
    assert n_frames > 2, f"the player has {n_frames} frames (did its script run?)"
    first_src, first_index = frame.get_attribute("src"), slider.input_value()
    player.get_by_role("button", name="Play", exact=True).click()
    seen_index, seen_src = {first_index}, {first_src}
    deadline = time.monotonic() + 10
    while (len(seen_index) < 3 or len(seen_src) < 3) and time.monotonic() < deadline:
        seen_index.add(slider.input_value())
        seen_src.add(frame.get_attribute("src"))
        time.sleep(0.05)
    assert len(seen_index) >= 3 and len(seen_src) >= 3, f"frames did not advance: indices {sorted(seen_index)}"
    player.get_by_role("button", name="Pause", exact=True).click()
    assert not outside, f"the browser asked for outside resources: {outside}"
