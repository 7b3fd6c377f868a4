"""Fault spellings (fixtures.faults): parse and name are each other's inverse; bad spellings
are clear errors."""

from __future__ import annotations

import pytest

from fixtures.faults import CONTENT_FAULTS, fault_name, parse_fault


@pytest.mark.parametrize(
    "text",
    [
        *CONTENT_FAULTS,
        "removed_after=12",
        "slow=0.05",
        "stops_answering_after=3",
        "sm_fails_after=4",
        "no_extended_length",
        "truncates_answers=100",
        "wrong_length_hint=200",
    ],
)
def test_parse_and_name_round_trip(text: str) -> None:
    assert fault_name(parse_fault(text)) == text


@pytest.mark.parametrize("text", ["melted", "removed_after", "removed_after=soon", "slow="])
def test_unknown_or_malformed_faults_are_named(text: str) -> None:
    with pytest.raises(ValueError, match="fault"):
        parse_fault(text)
