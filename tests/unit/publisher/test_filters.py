"""Filter matching: each dimension, "any" when empty, rank movement only for rank.changed, parsing."""

import pytest
from pydantic import ValidationError

from services.publisher.filters import EventFacts, Filters, matches, rank_movement

SEG = EventFacts("segment.changed", "acute", "RXX", "London")
RANK3 = EventFacts("rank.changed", "acute", "RXX", "London", rank_movement=3)
RANK_NEW = EventFacts("rank.changed", "acute", "RXX", "London", rank_movement=None)
ALERT = EventFacts("segment.worsened", "ambulance", "RYY", "North West")


@pytest.mark.parametrize("filters,facts,expected", [
    (Filters(), SEG, True),
    (Filters(leagues=("acute",)), SEG, True),
    (Filters(leagues=("ambulance",)), SEG, False),
    (Filters(trust_codes=("RXX", "RZZ")), SEG, True),
    (Filters(trust_codes=("RZZ",)), SEG, False),
    (Filters(regions=("London",)), SEG, True),
    (Filters(regions=("North West",)), SEG, False),
    (Filters(types=("segment.changed",)), SEG, True),
    (Filters(types=("rank.changed",)), SEG, False),
    (Filters(types=("segment.worsened", "segment.improved")), ALERT, True),
    (Filters(min_rank_movement=3), RANK3, True),
    (Filters(min_rank_movement=4), RANK3, False),
    (Filters(min_rank_movement=10), RANK_NEW, True),  # entering or leaving the ranking always counts
    (Filters(min_rank_movement=10), SEG, True),  # other types are not rank moves
    (Filters(leagues=("acute",), types=("rank.changed",), min_rank_movement=2), RANK3, True),
    (Filters(leagues=("acute",), regions=("London",), trust_codes=("RYY",)), SEG, False),
])
def test_matches(filters, facts, expected):
    assert matches(filters, facts) is expected


def test_lists_accept_repeats_and_commas():
    f = Filters(trust_codes=["RXX,RYY", " RZZ "], leagues="acute")
    assert f.trust_codes == ("RXX", "RYY", "RZZ") and f.leagues == ("acute",)


def test_unknown_types_and_negative_movement_are_refused():
    with pytest.raises(ValidationError, match="unknown event type"):
        Filters(types=["segment.changd"])
    with pytest.raises(ValidationError):
        Filters(min_rank_movement=-1)


def test_rank_movement():
    assert rank_movement({"rank": 10}, {"rank": 4}) == 6
    assert rank_movement({"rank": None}, {"rank": 4}) is None
    assert rank_movement({}, {"rank": 4}) is None
