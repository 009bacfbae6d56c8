"""URL checks shared by text links, URL buttons and webhooks."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_HOST_RE = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$|^[0-9.]+$"
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_valid_link(url: str) -> bool:
    """Whether Telegram would accept `url` as a link: http(s) with a real host, or tg:// etc."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return False
    lowered = url.lower()
    if lowered.startswith(("tg://", "ton://")):
        return len(url) > len("tg://")
    if "://" not in lowered:
        # Telegram accepts bare domains such as "example.com/path" and assumes http
        url = "http://" + url
        lowered = url.lower()
    if not lowered.startswith(("http://", "https://")):
        return False
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return host in LOCAL_HOSTS or bool(_HOST_RE.match(host))
