"""Server-rendered browser pages (no build step) and the session endpoints behind them."""
