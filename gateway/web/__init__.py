"""Server-rendered browser pages (no build step) and the session endpoints behind them.

Their HTML is Jinja2 templates as files (templates/, autoescaped), rendered through the one
environment in render.py; tests/web/test_browser.py drives them in a real browser.
"""
