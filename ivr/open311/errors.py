"""The one way an Open311 request fails: an HTTP status and the spec's list of {code, description}."""

from __future__ import annotations


class Open311Error(Exception):
    """400 (bad request), 403 (bad key) or 404 (unknown service, request or jurisdiction), with every problem."""

    def __init__(self, status: int, *problems: str):
        super().__init__("; ".join(problems))
        self.status = status
        self.problems = [(status, text) for text in problems]


def bad_request(*problems: str) -> Open311Error:
    """400: the request cannot be fulfilled as sent."""
    return Open311Error(400, *problems)


def not_found(what: str) -> Open311Error:
    """404: no such service, request or jurisdiction."""
    return Open311Error(404, what)
