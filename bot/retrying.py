"""Bot API calls that survive the network: PTB's AIORateLimiter, plus retries with backoff.

AIORateLimiter paces requests and waits out a 429's retry_after, but a 5xx, a dropped
connection or a timeout reach the handler as NetworkError and the reply is lost. Here such a
call is tried again a few times with exponential backoff. Refusals (400, 403, 401, 409) are
final and never retried. A timeout may come after Telegram accepted a message: the retry
can then show it twice, which is better than never (issue #7: "loses no reply").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)
# Telegram allows a bot about 30 messages a second to different chats (Bot API FAQ); a
# little under it, so that our clock and Telegram's never disagree about a burst.
OVERALL_RATE = 28
NETWORK_RETRIES = 4
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 8.0
Result = bool | dict[str, Any] | list[dict[str, Any]]


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter that also retries network failures and 5xx answers. It keeps every
    message under Telegram's overall rate; the reminder engine paces its own fan-out lower,
    so replies to people keep the difference and never queue behind a fan-out."""

    def __init__(
        self,
        *,
        overall_max_rate: float = OVERALL_RATE,
        max_retries: int = 3,
        network_retries: int = NETWORK_RETRIES,
        first_backoff: float = FIRST_BACKOFF,
    ) -> None:
        super().__init__(overall_max_rate=overall_max_rate, max_retries=max_retries)
        self.network_retries = network_retries
        self.first_backoff = first_backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        delay = self.first_backoff
        for attempt in range(self.network_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise  # the request was understood and refused: trying again changes nothing
            except NetworkError as error:
                if attempt == self.network_retries:
                    raise
                log.warning(
                    "%s failed (%s); retry %d in %.1f s", endpoint, error, attempt + 1, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
        raise AssertionError("unreachable")
