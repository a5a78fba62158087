"""The course website and the slide decks build offline, deterministically, and work in a real browser.

Builds the site (``gdcourse.tools.site.build_site``) and the lecture slides (``gdcourse.tools.slides.build_slides``)
for notebooks 00, 01 and 06 (06 adds an animation and a widget still), twice each into temporary
folders, then

1. compares the two builds file by file, byte by byte (the build itself drops Sphinx's ``.buildinfo``
   stamp; nothing else is excluded);
2. checks every ``href``/``src`` in every HTML file of both builds: internal targets exist (anchors
   included), nothing is loaded from another host (scripts, style sheets, images, frames), and no
   CSS file imports from another host -- external *links* (``<a href="https://...">``) are allowed;
3. serves the builds on 127.0.0.1 and opens the site's index page, the page of notebook 01 and the
   slide deck of notebook 01 in Debian's headless ``/usr/bin/chromium`` (driven by the ``playwright``
   package, never ``playwright install``), asserting: no console error, no page error, no failed or
   >= 400 response, no request to any host but localhost (every request is routed and recorded), math
   typeset by MathJax (``mjx-container`` for MathJax 3 on the site, ``.MathJax_CHTML`` for MathJax 2 in
   the slides) without TeX errors, every ``<img>`` decoded (``naturalWidth > 0``), the sidebar and
   the search box present, and a search for "momentum" finding notebook 06 (Sphinx's offline search);
4. on a tiny notebook made in the test: the lecture deck keeps solutions and ``instructor`` cells, the
   ``--student`` deck (from ``gdcourse assign``'s output) has neither, links between notebooks point to
   the other deck, and the website's version drops instructor cells and folds solutions.

The full builds (all notebooks; about 10-25 s each for the site and the slides on the 2-core machine) are
timed by hand (see docs/site/README.md); this test uses three notebooks to stay fast (about 30 s).  In CI
(``CI`` set) a missing chromium, playwright, Sphinx package or npm asset install is a failure, not a skip.
"""

from __future__ import annotations

import functools
import html
import html.parser
import importlib.util
import os
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from gdcourse.tools.assign import assign
from gdcourse.tools.site import build_site, learner_notebook
from gdcourse.tools.slides import VendorError, build_slides, ensure_vendor

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
NOTEBOOKS = ["00", "01", "06"]
INSTALL = (
    "apt-get install -y chromium npm && .venv/bin/pip install -e '.[docs,test]' && npm ci --prefix docs/vendor "
    "(never `playwright install`)"
)
# Tags whose URL attribute the browser loads by itself (as opposed to a link the reader follows).
LOADS = {
    ("script", "src"),
    ("link", "href"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
}
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


def _require(condition: bool, what: str) -> None:
    if condition:
        return
    message = f"{what} is needed to test the website and slides: {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# --- builds -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vendor():
    """The npm assets (``npm ci --prefix docs/vendor`` runs when they are missing) and the Sphinx packages."""
    for module in ("sphinx", "myst_nb", "sphinx_book_theme"):
        _require(importlib.util.find_spec(module) is not None, f"the Python package {module}")
    try:
        return ensure_vendor()
    except VendorError as err:
        _require(False, f"the npm assets ({err})")


@pytest.fixture(scope="module")
def builds(vendor, tmp_path_factory):
    """Two independent builds ``(a, b)``, each a folder holding ``site/`` and ``slides/``."""
    roots = []
    for name in ("a", "b"):
        root = tmp_path_factory.mktemp(f"build-{name}")
        build_site(root / "site", only=NOTEBOOKS)
        build_slides(root / "slides", only=NOTEBOOKS)
        roots.append(root)
    return tuple(roots)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_builds_are_deterministic(builds):
    a, b = (_files(root) for root in builds)
    assert sorted(a) == sorted(b), f"file lists differ: {sorted(set(a) ^ set(b))[:10]}"
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"these files differ between two builds of the same sources: {differ[:20]}"
    assert not any(name.endswith(".buildinfo") for name in a)


def _text(path: Path) -> str:
    """The text of an HTML file, tags removed (code is split into highlighted tokens)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def test_builds_hold_every_page(builds):
    root = builds[0]
    site, slides = root / "site", root / "slides"
    for page in (
        "index.html",
        "search.html",
        "searchindex.js",
        "instructor.html",
        "grading.html",
        "notebooks/00_start_here.html",
        "notebooks/01_update_rule.html",
        "notebooks/06_momentum.html",
        "_static/mathjax/tex-chtml.js",
    ):
        assert (site / page).is_file(), page
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "notebooks/01_update_rule.html" in index and "(in preparation)" in index  # 02.. not built here
    for page in (
        "index.html",
        "00_start_here.slides.html",
        "01_update_rule.slides.html",
        "_assets/reveal.js/dist/reveal.js",
        "_assets/mathjax/MathJax.js",
        "_assets/require.js",
    ):
        assert (slides / page).is_file(), page
    # lecture decks keep the solutions; the site folds them behind a toggle but keeps the exercise and its check
    deck = _text(slides / "01_update_rule.slides.html")
    page = _text(site / "notebooks/01_update_rule.html")
    assert "# SOLUTION" in deck and 'check("01.' in deck
    assert 'check("01.' in page and "# SOLUTION" in page  # the solution is there, folded (next test)
    assert "Interactive explorer, shown as a still" in deck and "Interactive explorer, shown as a still" in page
    raw = (slides / "01_update_rule.slides.html").read_text(encoding="utf-8")
    assert "widget-view+json" not in raw and "html-manager" not in raw and "mermaid" not in raw


def test_lecture_and_student_decks_and_learner_pages(vendor, tmp_path):
    slide = {"slideshow": {"slide_type": "slide"}}
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# 00 · Tiny\n\nThe rule $x^2$.", metadata=slide),
            nbformat.v4.new_code_cell("answer = 42  # SOLUTION\ncheck('00.square', answer)"),
            nbformat.v4.new_markdown_cell("Ask the class first.", metadata={"tags": ["instructor"], **slide}),
            nbformat.v4.new_markdown_cell("Next: [notebook 01](01_next.ipynb#part)."),
        ]
    )
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(nb, source / "00_tiny.ipynb")
    assign(source)
    build_slides(tmp_path / "lecture", source)
    build_slides(tmp_path / "student", source, student=True)
    lecture, student = _text(tmp_path / "lecture/00_tiny.slides.html"), _text(tmp_path / "student/00_tiny.slides.html")
    assert "answer = 42" in lecture and "Ask the class first." in lecture
    assert "celltag_instructor" in (tmp_path / "lecture/00_tiny.slides.html").read_text(encoding="utf-8")
    assert "answer = 42" not in student and "YOUR ANSWER" in student and "Ask the class first." not in student
    assert 'href="01_next.slides.html"' in (tmp_path / "lecture/00_tiny.slides.html").read_text(encoding="utf-8")
    assert "student version" in _text(tmp_path / "student/index.html")
    learner = learner_notebook(nb)
    assert [c.source[:6] for c in learner.cells] == ["# 00 ·", "answer", "Next: "]  # instructor cell gone
    assert "hide-input" in learner.cells[1].metadata["tags"]  # the solution, folded


# --- links --------------------------------------------------------------------------------------


class _Refs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if value is None:
                continue
            if key in ("id", "name") and tag != "meta":
                self.ids.add(value)
            if key in ("href", "src", "data") and tag not in ("base",):
                self.refs.append((tag, key, value))


@functools.cache
def _parse(path: Path) -> _Refs:
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def test_internal_links_resolve_and_nothing_loads_from_outside(builds):
    problems = []
    for root in builds:
        for page in sorted(root.rglob("*.html")):
            if "_assets" in page.parts or "_static" in page.parts:
                continue  # vendored libraries and the themes' Jinja macro files, not pages
            for tag, attr, url in _parse(page).refs:
                where = f"{page.relative_to(root)}: <{tag} {attr}={url!r}>"
                if url.startswith(("data:", "javascript:", "mailto:")) or url.strip() in ("", "#"):
                    continue
                if EXTERNAL.match(url):
                    if (tag, attr) in LOADS:
                        problems.append(f"{where} loads from outside")
                    continue
                parts = urlparse(url)
                target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
                if parts.path and not target.is_file():
                    problems.append(f"{where}: {target} does not exist")
                elif parts.fragment and not parts.fragment.startswith("/") and target.suffix == ".html":
                    ids = _parse(target).ids  # browsers match the raw fragment, then its percent-decoding
                    if parts.fragment not in ids and unquote(parts.fragment) not in ids:
                        problems.append(f"{where}: no anchor #{parts.fragment} in {target.name}")
        for css in root.rglob("*.css"):
            text = css.read_text(encoding="utf-8", errors="replace")
            for match in re.finditer(r"(?:@import\s+(?:url\()?|url\()\s*['\"]?((?:https?:)?//[^'\")\s]+)", text):
                problems.append(f"{css.relative_to(root)} loads {match.group(1)}")
    assert not problems, "\n".join(problems[:40])


# --- in a browser -------------------------------------------------------------------------------


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(builds):
    handler = functools.partial(_Quiet, directory=str(builds[0]))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    _require(os.path.exists(CHROMIUM), CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "the playwright package")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _open(browser, url: str):
    """Open ``url`` in a fresh context; return ``(page, problems)`` where problems fills as the page runs."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []

    def guard(route):
        request_url = route.request.url
        if request_url.startswith(("data:", "blob:")) or (urlparse(request_url).hostname or "") in LOCAL_HOSTS:
            route.continue_()
        else:
            problems.append(f"request outside localhost: {request_url}")
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console error: {msg.text}"))
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url} ({req.failure})"))
    page.on("response", lambda res: res.status >= 400 and problems.append(f"HTTP {res.status}: {res.url}"))
    page.on("websocket", lambda ws: problems.append(f"websocket: {ws.url}"))
    page.goto(url, wait_until="load")
    return page, problems


IMAGES_JS = """async () => {
  const imgs = [...document.querySelectorAll('img')];
  for (const img of imgs) { img.loading = 'eager'; }
  await Promise.all(imgs.map((img) => img.decode().catch(() => null)));
  return imgs.map((img) => ({src: (img.currentSrc || img.src || '').slice(0, 80), width: img.naturalWidth}));
}"""


def _check_images(page, at_least: int) -> None:
    page.wait_for_function("() => [...document.querySelectorAll('img')].every((i) => i.getAttribute('src'))")
    images = page.evaluate(IMAGES_JS)
    assert len(images) >= at_least, images
    broken = [img for img in images if img["width"] <= 0]
    assert not broken, f"images not loaded: {broken}"


def test_site_index_in_browser(served, browser):
    page, problems = _open(browser, f"{served}/site/index.html")
    try:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        assert page.locator("mjx-container").count() >= 1
        assert page.locator("mjx-merror").count() == 0
        assert page.locator("nav a[href='notebooks/01_update_rule.html']").count() >= 1  # the sidebar, in order
        assert page.locator("input[name='q']").count() >= 1  # the search box
        _check_images(page, 0)
        page.wait_for_load_state("networkidle")
        assert not problems, "\n".join(problems)
        page.goto(page.url.replace("index.html", "search.html?q=momentum"))  # Sphinx's search, in the browser
        page.wait_for_selector("#search-results ul.search li a[href*='06_momentum']", state="attached")
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()


def test_site_notebook_page_in_browser(served, browser):
    page, problems = _open(browser, f"{served}/site/notebooks/01_update_rule.html")
    try:
        page.evaluate("() => MathJax.startup.promise")
        assert page.locator("mjx-container").count() >= 5
        assert page.locator("mjx-merror").count() == 0
        _check_images(page, 5)
        assert page.get_by_text("check(", exact=False).count() >= 1
        assert page.locator("details.hide").count() >= 1  # the solution, folded
        page.wait_for_load_state("networkidle")
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()


def test_slide_deck_in_browser(served, browser):
    page, problems = _open(browser, f"{served}/slides/01_update_rule.slides.html")
    try:
        # reveal.js is loaded through require.js (an AMD module, no global): watch the DOM and the URL instead
        page.wait_for_selector(".reveal.ready", state="attached")
        page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.isReady")
        page.evaluate("() => new Promise((done) => MathJax.Hub.Queue(() => done(true)))")
        assert page.locator(".MathJax_CHTML").count() >= 5
        assert page.locator(".mjx-merror, .MathJax_Error").count() == 0
        assert page.get_by_text("Math Processing Error").count() == 0
        assert page.locator(".reveal .slides > section").count() >= 5
        _check_images(page, 5)
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => location.hash === '#/1'")
        page.wait_for_load_state("networkidle")
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()
