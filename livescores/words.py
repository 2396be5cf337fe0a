"""The app's football vocabulary in the fan's language: what a status change, a VAR decision and
its reason, a penalty's outcome are called. The rules keep their own English names
(`statuses.STATUS_LABELS`, the API's values); these are what pages, pushes and screen readers say.
Each word is a literal `gettext` call, so `make messages` finds it."""

from __future__ import annotations

from .i18n import gettext as _


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
