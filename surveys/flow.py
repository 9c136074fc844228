"""The survey conversation as pure functions: answers so far in, the next question out.

No I/O here: the chat handler loads a `Progress` from the database, applies one step
(`answer`, `skip`, `back`) and stores what the resulting `Step` says changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from surveys.definitions import AnswerValue, Definition, Question


class FlowError(ValueError):
    """A step that is not allowed now (the handler answers it politely)."""


class InvalidAnswer(FlowError):
    """The value is not an answer of the current question."""


class RequiredQuestion(FlowError):
    """A required question cannot be skipped."""


class NothingBefore(FlowError):
    """Back was pressed on the first question."""


class Finished(FlowError):
    """The survey has no current question."""


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a citizen is: the current question, the way back, and the answers given."""

    current: str | None
    history: tuple[str, ...] = ()
    answers: Mapping[str, AnswerValue] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Whether every applicable question has been dealt with."""
        return self.current is None


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one step: the new progress, and which stored answers change.

    `stored` is the answer to write (replacing an earlier one to the same question);
    `removed` the questions whose stored answers must be deleted (skipped, or no longer
    asked because an earlier answer changed).
    """

    progress: Progress
    stored: tuple[str, AnswerValue] | None = None
    removed: frozenset[str] = frozenset()


def applies(question: Question, answers: Mapping[str, AnswerValue]) -> bool:
    """Whether `question` is asked, given `answers`."""
    return question.when is None or question.when.holds(answers)


def next_question(
    definition: Definition, after: str | None, answers: Mapping[str, AnswerValue]
) -> Question | None:
    """The first question after `after` (None: from the start) that applies."""
    start = 0 if after is None else definition.index_of(after) + 1
    for question in definition.questions[start:]:
        if applies(question, answers):
            return question
    return None


def check_value(question: Question, value: AnswerValue) -> AnswerValue:
    """`value` if it answers `question`, else InvalidAnswer."""
    if question.type == "text":
        if not isinstance(value, str) or not value.strip():
            raise InvalidAnswer("an empty comment")
        text = value.strip()
        if len(text) > question.max_length:
            raise InvalidAnswer(f"longer than {question.max_length} characters")
        return text
    valid = question.valid_values()
    if valid is None or isinstance(value, bool) or value not in valid:
        raise InvalidAnswer(f"{value!r} is not an answer of {question.id}")
    return value


def begin(definition: Definition, first_answer: AnswerValue) -> Step:
    """Start a survey with the answer to its first question (tapped in the invitation)."""
    first = definition.questions[0]
    return answer(definition, Progress(current=first.id), first_answer)


def answer(definition: Definition, progress: Progress, value: AnswerValue) -> Step:
    """Answer the current question and move on."""
    question = _current(definition, progress)
    checked = check_value(question, value)
    answers = dict(progress.answers)
    answers[question.id] = checked
    pruned, removed = _prune(definition, answers)
    following = next_question(definition, question.id, pruned)
    return Step(
        Progress(
            current=following.id if following else None,
            history=(*progress.history, question.id),
            answers=pruned,
        ),
        stored=(question.id, checked),
        removed=removed,
    )


def skip(definition: Definition, progress: Progress) -> Step:
    """Leave the current (optional) question unanswered and move on."""
    question = _current(definition, progress)
    if question.required:
        raise RequiredQuestion(question.id)
    answers = {k: v for k, v in progress.answers.items() if k != question.id}
    pruned, removed = _prune(definition, answers)
    if question.id in progress.answers:
        removed |= {question.id}
    following = next_question(definition, question.id, pruned)
    return Step(
        Progress(
            current=following.id if following else None,
            history=(*progress.history, question.id),
            answers=pruned,
        ),
        removed=frozenset(removed),
    )


def back(definition: Definition, progress: Progress) -> Step:
    """Return to the previous question; its earlier answer stays until it is changed."""
    _current(definition, progress)
    if not progress.history:
        raise NothingBefore()
    previous = progress.history[-1]
    return Step(Progress(previous, progress.history[:-1], progress.answers))


def _current(definition: Definition, progress: Progress) -> Question:
    if progress.current is None:
        raise Finished()
    return definition.question(progress.current)


def _prune(
    definition: Definition, answers: dict[str, AnswerValue]
) -> tuple[dict[str, AnswerValue], frozenset[str]]:
    # Conditions only look at earlier questions, so one pass in order settles everything.
    kept: dict[str, AnswerValue] = {}
    removed: set[str] = set()
    for question in definition.questions:
        if question.id not in answers:
            continue
        if applies(question, kept):
            kept[question.id] = answers[question.id]
        else:
            removed.add(question.id)
    return kept, frozenset(removed)
