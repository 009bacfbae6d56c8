"""Telegram-like flood control: a global and a per-chat token bucket per bot."""

from __future__ import annotations

import math
import time

from bot.emulator.errors import ApiError


class TokenBucket:
    """`rate` tokens per second, holding at most `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def _refill(self, now: float) -> None:
        # `now` may be read just before the bucket was made: never refill by a negative
        # time, or a full bucket of one token refuses its very first message.
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        """Spend one token (call after wait_time returned 0)."""
        self.tokens -= 1


class RateLimiter:
    """Answers 429 with retry_after when a bot sends faster than Telegram allows."""

    def __init__(
        self, *, enabled: bool, global_rate: float, chat_rate: float, chat_burst: int
    ) -> None:
        self.enabled = enabled
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.global_bucket = TokenBucket(global_rate, global_rate)
        self.chat_buckets: dict[int, TokenBucket] = {}

    def check(self, chat_id: int) -> None:
        """Spend a token for a message in `chat_id`, or raise 429 without spending any."""
        if not self.enabled:
            return
        now = time.monotonic()
        chat = self.chat_buckets.get(chat_id)
        if chat is None:
            chat = self.chat_buckets[chat_id] = TokenBucket(self.chat_rate, self.chat_burst)
        wait = max(self.global_bucket.wait_time(now), chat.wait_time(now))
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        self.global_bucket.take()
        chat.take()
