"""How long a caller in line will wait, from what Twilio tells the wait URL, in minutes a caller can hear."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class QueueState:
    """What Twilio posts to the wait URL: place in line, callers in line, seconds waited (own and average)."""

    position: int | None
    size: int | None = None
    waited: int | None = None  # QueueTime: this caller's seconds in line so far
    average_wait: int | None = None  # AvgQueueTime: the mean of the seconds every caller now in line has waited


def estimated_seconds(state: QueueState, seconds_per_caller: int) -> int | None:
    """Seconds until a representative answers; None without a place in line.

    In a line that moves steadily, callers now in it have waited about half the whole wait on average, so the
    whole line takes about twice AvgQueueTime and each place about that divided by the callers in line. Before
    anyone has waited (a new line, or AvgQueueTime missing) each caller ahead counts `seconds_per_caller`.
    """
    if not state.position:
        return None
    size = max(state.size or 0, state.position)
    average = state.average_wait or state.waited or 0
    per_place = 2 * average / size if average else seconds_per_caller
    return round(state.position * per_place)


def spoken_minutes(seconds: int) -> int:
    """Minutes as said: 0 under a minute, whole minutes up to ten, then to the nearest five (never 'about 0')."""
    if seconds < 60:
        return 0
    minutes = seconds / 60
    if minutes < 10:
        return max(1, math.floor(minutes + 0.5))
    return 5 * math.floor(minutes / 5 + 0.5)
