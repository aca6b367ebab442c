"""Durations as people type them: ``90s``, ``30m``, ``2h``, ``1h30m``, ``1d``."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])", re.ASCII)
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+", re.ASCII)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (``0.5s`` is half a second); a bare number means minutes.

    Raises ``ValueError``.
    """
    text = text.strip().lower()
    if text.isdigit():
        seconds = float(text) * 60
    elif _WHOLE.fullmatch(text):
        seconds = sum(float(n) * _UNIT[u] for n, u in _PART.findall(text))
    else:
        raise ValueError(f"{text!r} is not a duration; use forms like 90s, 30m, 2h or 1h30m")
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return seconds


def format_duration(seconds: float) -> str:
    """``5400`` -> ``1h30m``; ``42`` -> ``42s``."""
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m{secs:02d}s" if secs and minutes < 10 else f"{minutes}m"
