"""The app's football vocabulary in the fan's language: what a status change, a VAR decision and
its reason, a penalty's outcome are called. The rules keep their own English names
(`statuses.STATUS_LABELS`, the API's values); these are what pages, pushes and screen readers say.
Each word is a literal `gettext` call, so `make messages` finds it."""

from __future__ import annotations

from .i18n import DEFAULT, LANGUAGES, speaking
from .i18n import gettext as _
from .said import Said, Word


def status_word(kind: str) -> str:
    """ "Half-time", "Descanso": a status change as the timeline and the announcements name it."""
    words = {
        "kick_off": _("Kick-off"),
        "half_time": _("Half-time"),
        "second_half": _("Second half"),
        "full_time": _("Full-time"),
        "extra_time": _("Extra time"),
        "extra_time_half_time": _("Extra-time half-time"),
        "extra_time_second_half": _("Extra time, second half"),
        "penalties": _("Penalty shoot-out"),
        "postpone": _("Postponed"),
        "suspend": _("Suspended"),
        "resume": _("Resumed"),
        "abandon": _("Abandoned"),
        "cancel": _("Cancelled"),
        "award": _("Awarded"),
        "result": _("Result"),
    }
    return words.get(kind, kind)


def var_word(decision: str | None) -> str:
    """What a VAR review decided, as the timeline and the announcements say it."""
    words = {
        "goal_disallowed": _("Goal disallowed after review"),
        "goal_awarded": _("Goal awarded after review"),
        "penalty_given": _("Penalty given after review"),
        "penalty_overturned": _("Penalty overturned after review"),
        "red_card_upgraded": _("Red card after review"),
        "red_card_rescinded": _("Red card rescinded after review"),
    }
    return words.get(decision or "", _("VAR decision"))


def reason_word(reason: str) -> str:
    """A VAR decision's reason: the scorer's choice of a few, else their own words as typed."""
    words = {"offside": _("offside"), "handball": _("handball"), "foul": _("foul"), "other": _("other")}
    return words.get(reason, reason)


def outcome_word(outcome: str | None) -> str:
    """A penalty kick's outcome: scored, saved or missed."""
    words = {"scored": _("scored"), "saved": _("saved"), "missed": _("missed")}
    return words.get(outcome or "", outcome or "")


def event_word(kind: str) -> str:
    """ "Goal", "Gol": an event kind as a sentence names it (the statuses as `status_word`)."""
    words = {
        "goal": _("Goal"),
        "yellow_card": _("Yellow card"),
        "red_card": _("Red card"),
        "penalty_missed": _("Penalty missed"),
        "var": _("VAR decision"),
        "added_time": _("Added time"),
        "substitution": _("Substitution"),
        "lineup": _("Line-up"),
        "shootout_kick": _("Shoot-out kick"),
        "undo": _("Undo"),
    }
    found = words.get(kind)
    return found if found is not None else status_word(kind)


def recorded(kind: str) -> str:
    """The start of a scorer's acknowledgement: "Recorded goal", "Gol registrado"."""
    words = {
        "kick_off": _("Recorded kick off"),
        "half_time": _("Recorded half time"),
        "second_half": _("Recorded second half"),
        "full_time": _("Recorded full time"),
        "goal": _("Recorded goal"),
        "yellow_card": _("Recorded yellow card"),
        "red_card": _("Recorded red card"),
        "undo": _("Undid the last event"),
        "extra_time": _("Recorded extra time"),
        "extra_time_half_time": _("Recorded extra time half time"),
        "extra_time_second_half": _("Recorded extra time second half"),
        "penalties": _("Recorded penalties"),
        "shootout_kick": _("Recorded shootout kick"),
        "added_time": _("Recorded added time"),
        "substitution": _("Recorded substitution"),
        "lineup": _("Recorded lineup"),
        "penalty_missed": _("Recorded penalty missed"),
        "var": _("Recorded var"),
        "postpone": _("Recorded postpone"),
        "suspend": _("Recorded suspend"),
        "resume": _("Recorded resume"),
        "abandon": _("Recorded abandon"),
        "cancel": _("Recorded cancel"),
        "award": _("Recorded award"),
        "result": _("Recorded result"),
    }
    return words.get(kind) or _("Recorded %(kind)s", kind=kind.replace("_", " "))


def say(text: str, chosen: str) -> str:
    """`text` in the chosen language when the rules made it as a `Said` (its values too, and the
    football words among them); any other text, and anything in English, as it is."""
    if chosen == DEFAULT or chosen not in LANGUAGES or not isinstance(text, Said | Word):
        return text
    with speaking(chosen):
        return _said(text)


def _said(text: str) -> str:
    if isinstance(text, Word):
        word = event_word(text.kind)
        return word.lower() if text[:1].islower() else word
    if not isinstance(text, Said):
        return text
    values = {key: _said(value) if isinstance(value, str) else value for key, value in text.values.items()}
    return _(text.msgid, **values) if values else _(text.msgid)
