"""The domain: Tortoise models, rules, transitions and validation. No Telegram in here."""
