"""The estimated wait from what Twilio tells the wait URL, and how it is said."""

import pytest

from ivr.core.waiting import QueueState, estimated_seconds, spoken_minutes


def test_no_place_in_line_no_estimate():
    assert estimated_seconds(QueueState(position=None, size=3, average_wait=60), 120) is None
    assert estimated_seconds(QueueState(position=0), 120) is None


def test_a_new_line_counts_each_place_at_the_configured_pace():
    assert estimated_seconds(QueueState(position=3, size=3, waited=0, average_wait=0), 120) == 360


def test_a_steady_line_takes_about_twice_the_average_wait_shared_by_the_callers_in_it():
    # Four callers who have waited 150 s on average: the line takes about 300 s, 75 s a place.
    assert estimated_seconds(QueueState(position=1, size=4, waited=280, average_wait=150), 120) == 75
    assert estimated_seconds(QueueState(position=4, size=4, waited=10, average_wait=150), 120) == 300


def test_own_wait_stands_in_for_a_missing_average_and_size_never_below_position():
    assert estimated_seconds(QueueState(position=2, size=None, waited=60, average_wait=None), 120) == 120


@pytest.mark.parametrize(("seconds", "minutes"), [
    (0, 0), (59, 0), (60, 1), (89, 1), (90, 2), (239, 4), (569, 9), (570, 10), (600, 10), (749, 10), (750, 15),
    (1800, 30),
])
def test_minutes_are_rounded_as_a_person_would_say_them(seconds, minutes):
    assert spoken_minutes(seconds) == minutes
