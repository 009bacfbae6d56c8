"""Benchmarks of issue #8, run by hand (`make bench`); results go to docs/PERFORMANCE.md.

Every figure is taken in one run beside its baseline (a bare python-telegram-bot echo bot
through the same Bot API emulator), because only a ratio is honest on a shared machine.
The orchestrating process (bench/__main__.py) never opens the database itself: Tortoise
caches SQL per dialect, so everything that touches SQLite or PostgreSQL runs in a child
process (the bot, bench/seed.py, bench/tick.py, bench/fanout.py).
"""
