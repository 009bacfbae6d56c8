"""Scheduled jobs (DESIGN §4), run by python-telegram-bot's JobQueue (APScheduler)."""
