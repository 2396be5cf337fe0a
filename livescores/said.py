"""What the rules tell a person (a refusal, an acknowledgement), as data that any language can
say: the English text itself, which is what it reads as anywhere (logs, tests, the API), and
beside it the English message id and the values put into it, from which the edge says it in the
listener's language (`words.say`).

Nothing here knows of languages: the rules stay pure. `N_` marks a message for extraction
(`make messages` finds it, as gettext's customary marker), and values that are themselves
`Said`, or football `Word`s, are said in the same language too."""

from __future__ import annotations

from typing import Any


class Said(str):
    """English text that remembers how it was made: `msgid % values`."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, values: dict[str, Any]) -> Said:
        made = super().__new__(cls, msgid % values if values else msgid)
        made.msgid = msgid
        made.values = values
        return made

    def __reduce__(self) -> tuple[type[Said], tuple[str, dict[str, Any]]]:
        return Said, (self.msgid, self.values)  # a copy (or a pickle) keeps what it was made of


class Word(str):
    """The name of an event kind or status inside a sentence, in English as the rules write it
    ("kick-off", "goal"); said in another language from the app's football vocabulary."""

    kind: str

    def __new__(cls, kind: str, english: str) -> Word:
        made = super().__new__(cls, english)
        made.kind = kind
        return made

    def __reduce__(self) -> tuple[type[Word], tuple[str, str]]:
        return Word, (self.kind, str(self))


def N_(msgid: str, **values: Any) -> Said:
    """A message for a person, marked for translation, with the values that fill it."""
    return Said(msgid, values)


def said_of(error: BaseException) -> str:
    """What an exception says: its first argument as given (a `Said` keeps its message id)."""
    first = error.args[0] if len(error.args) == 1 else None
    return first if isinstance(first, str) else str(error)
