"""The bench's stored calendar: the matches beside today's are on other days, distinct, and
spread over its competitions."""

from __future__ import annotations

from datetime import date

from bench.calendar_load import COMPETITIONS, other_fixtures
from livescores.fixtures import fixture_key


def test_the_other_fixtures_never_fall_on_today_and_never_repeat() -> None:
    today = date(2026, 11, 30)
    fixtures = other_fixtures(9990, today)
    matches = [match for _, match in fixtures]
    assert len(fixtures) == 9990
    assert all(match.kickoff is not None and match.kickoff.date() != today for match in matches)
    assert all(match.home != match.away for match in matches)
    natural = {fixture_key(m.home, m.away, m.kickoff) for m in matches if m.kickoff is not None}
    assert len(natural) == len({key for key, _ in fixtures}) == 9990
    assert len({match.competition for match in matches}) == COMPETITIONS
    assert len({match.kickoff.date() for match in matches if match.kickoff is not None}) == 400
