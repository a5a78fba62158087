"""Sphinx configuration of the course website (built by ``gdcourse site`` / ``make site``).

The build stages this folder together with the course notebooks in a temporary
folder (see ``gdcourse/tools/site.py``), so the notebooks are never copied into the
repository.  Notebooks are rendered from their stored outputs (no execution).
"""

project = "Gradient descent: a course you can run, check and grade"
author = "the gdcourse authors"
copyright = "the gdcourse authors, MIT licence"  # no year: the build must not depend on the date
language = "en"

extensions = ["myst_nb"]
nb_execution_mode = "off"  # render stored outputs; never run a notebook at build time
nb_ipywidgets_js = {}  # widgets are replaced by stills at staging; never load a widget manager from a CDN
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints"]

html_theme = "sphinx_book_theme"
html_title = "Gradient descent"
html_static_path = ["_static"]  # gdcourse.tools.site puts the vendored MathJax 3 in _static/mathjax
html_css_files = ["course.css"]
mathjax_path = "mathjax/tex-chtml.js"  # relative to _static: served from the build, not a CDN
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
    "home_page_in_toc": True,
}
# Light by default: the figures are drawn on white.  (Without a value the theme's script logs a console error.)
html_context = {"default_mode": "light"}
html_favicon = "_static/favicon.svg"  # a local icon, so the browser does not ask for a missing /favicon.ico
