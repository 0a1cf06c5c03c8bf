"""A value read from the database and trusted for a few seconds: one query per worker and interval, not per turn."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

Value = TypeVar("Value")

# Every cache in this process, so a change made here is seen here at once (other processes within their TTL).
_CACHES: weakref.WeakSet[ReadThroughCache] = weakref.WeakSet()


class ReadThroughCache(Generic[Value]):
    """What `read` returned last, read again once that reading is older than `seconds`."""

    def __init__(self, read: Callable[[Session], Value], seconds: float, clock: Callable[[], float] = time.monotonic):
        self.read = read
        self.seconds = seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._value: Value | None = None
        self._until = float("-inf")
        _CACHES.add(self)

    def current(self, session: Session) -> Value:
        """The value as last read, or read now if the last reading is too old."""
        with self._lock:
            if self.clock() < self._until:
                return self._value
        value = self.read(session)
        with self._lock:
            self._value, self._until = value, self.clock() + self.seconds
        return value

    def forget(self) -> None:
        """Read again on next use."""
        with self._lock:
            self._until = float("-inf")


def forget_everywhere() -> None:
    """A change made in this process takes effect in it at once: every cache reads again on next use."""
    for cache in list(_CACHES):
        cache.forget()
