"""Survey definitions: YAML files under ``surveys/definitions/``, validated when loaded.

A definition is a list of questions asked one at a time::

    id: default
    title: {vi: "…", en: "…"}
    applies_to: {procedures: ["1.001193"], fields: ["Đất đai"]}   # omitted: the default survey
    questions:
      - id: quick
        type: rating3            # scale5 | rating3 | choice | text
        required: true
        text: {vi: "…", en: "…"}
      - id: access
        type: scale5
        element: access          # one of SIPAS's five elements (scale5 only)
        when: {question: more, in: [accept]}
      - id: comment
        type: text
        max_length: 1000
        when: {any: [{question: quick, in: [1]}, {question: [access, staff], at_most: 3}]}

Conditions (``when``): ``{question: ID or [IDs], in: [values]}``, ``{question: …, at_most: N}``,
``{question: …, at_least: N}`` (true when any of the questions has such an answer),
``{answered: ID}``, and ``{any: […]}``, ``{all: […]}``, ``{not: {…}}``. A condition may only
look at questions asked before it. The first question is always a required ``rating3``: it is
asked in the invitation itself, before anyone knows which survey applies.

Every problem is reported as a `DefinitionError` naming the file, the question and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from surveys.elements import ELEMENTS

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
QUESTION_TYPES = ("scale5", "rating3", "choice", "text")
MAX_QUESTIONS = 40  # question indices travel in button payloads
MAX_OPTIONS = 8
MAX_TEXT_LENGTH = 1000
_ID = re.compile(r"^[a-z][a-z0-9_]{0,23}$")

QuestionType = Literal["scale5", "rating3", "choice", "text"]
AnswerValue = int | str
Answers = Mapping[str, AnswerValue]


class DefinitionError(ValueError):
    """A survey definition is malformed; the message names the file, question and field."""


@dataclass(frozen=True, slots=True)
class Texts:
    """A text in Vietnamese and English."""

    vi: str
    en: str

    def get(self, language: str) -> str:
        """The text in `language` (Vietnamese unless "en")."""
        return self.en if language == "en" else self.vi


@dataclass(frozen=True, slots=True)
class Option:
    """One answer of a `choice` question."""

    id: str
    text: Texts


class Condition(Protocol):
    """When a question is asked, given the answers so far."""

    def holds(self, answers: Answers) -> bool:
        """Whether the condition is true for `answers`."""
        ...

    def references(self) -> frozenset[str]:
        """The question ids the condition looks at."""
        ...


@dataclass(frozen=True, slots=True)
class AnswerIn:
    """Some question among `questions` was answered with one of `values`."""

    questions: tuple[str, ...]
    values: frozenset[AnswerValue]

    def holds(self, answers: Answers) -> bool:
        """See the class."""
        return any(q in answers and answers[q] in self.values for q in self.questions)

    def references(self) -> frozenset[str]:
        """See `Condition`."""
        return frozenset(self.questions)


@dataclass(frozen=True, slots=True)
class AnswerBound:
    """Some numeric answer among `questions` is at most (or at least) `limit`."""

    questions: tuple[str, ...]
    limit: int
    upper: bool  # True: at_most, False: at_least

    def holds(self, answers: Answers) -> bool:
        """See the class."""
        for question in self.questions:
            value = answers.get(question)
            if isinstance(value, int) and (
                value <= self.limit if self.upper else value >= self.limit
            ):
                return True
        return False

    def references(self) -> frozenset[str]:
        """See `Condition`."""
        return frozenset(self.questions)


@dataclass(frozen=True, slots=True)
class Answered:
    """The question was answered (not skipped)."""

    question: str

    def holds(self, answers: Answers) -> bool:
        """See the class."""
        return self.question in answers

    def references(self) -> frozenset[str]:
        """See `Condition`."""
        return frozenset((self.question,))


@dataclass(frozen=True, slots=True)
class Combined:
    """``any``, ``all`` or ``not`` of other conditions."""

    operator: Literal["any", "all", "not"]
    parts: tuple[Condition, ...]

    def holds(self, answers: Answers) -> bool:
        """See the class."""
        results = (part.holds(answers) for part in self.parts)
        if self.operator == "any":
            return any(results)
        if self.operator == "all":
            return all(results)
        return not next(results)

    def references(self) -> frozenset[str]:
        """See `Condition`."""
        return frozenset().union(*(part.references() for part in self.parts))


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a survey."""

    id: str
    type: QuestionType
    text: Texts
    element: str | None = None
    required: bool = False
    when: Condition | None = None
    options: tuple[Option, ...] = ()
    max_length: int = MAX_TEXT_LENGTH

    @property
    def scored(self) -> bool:
        """Whether answers feed an element index (5-point questions of an element)."""
        return self.type == "scale5" and self.element is not None

    def valid_values(self) -> frozenset[AnswerValue] | None:
        """The answers a button may carry; None for free text."""
        if self.type == "scale5":
            return frozenset(range(1, 6))
        if self.type == "rating3":
            return frozenset(range(1, 4))
        if self.type == "choice":
            return frozenset(option.id for option in self.options)
        return None


@dataclass(frozen=True, slots=True)
class Definition:
    """A validated survey."""

    id: str
    title: Texts
    questions: tuple[Question, ...]
    procedures: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    source: str = "<memory>"

    @property
    def is_default(self) -> bool:
        """Whether the survey applies when no other one does."""
        return not self.procedures and not self.fields

    @property
    def numbered(self) -> tuple[str, ...]:
        """The questions shown as "question n of N": the scale and choice questions after the
        offer to answer more (the first choice question), i.e. the ones the offer counts.
        The one-tap rating, the offer itself and free-text comments carry no number."""
        offer = next((i for i, q in enumerate(self.questions) if q.type == "choice"), None)
        if offer is None:
            return tuple(q.id for q in self.questions[1:] if q.type in ("scale5", "choice"))
        return tuple(q.id for q in self.questions[offer + 1 :] if q.type in ("scale5", "choice"))

    def index_of(self, question_id: str) -> int:
        """The position of a question; KeyError if it is not in this survey."""
        for index, question in enumerate(self.questions):
            if question.id == question_id:
                return index
        raise KeyError(question_id)

    def question(self, question_id: str) -> Question:
        """The question with `question_id`; KeyError if none."""
        return self.questions[self.index_of(question_id)]


class Catalog:
    """Every survey definition, and which one applies to a dossier."""

    def __init__(self, definitions: Iterable[Definition]) -> None:
        self._by_id: dict[str, Definition] = {}
        for definition in definitions:
            if definition.id in self._by_id:
                other = self._by_id[definition.id].source
                raise DefinitionError(
                    f"{definition.source}: field 'id': survey id {definition.id!r} is also "
                    f"used by {other}"
                )
            self._by_id[definition.id] = definition
        defaults = [d for d in self._by_id.values() if d.is_default]
        if len(defaults) != 1:
            names = ", ".join(d.source for d in defaults) or "none"
            raise DefinitionError(
                "exactly one survey definition must have no 'applies_to' (the default survey); "
                f"found {len(defaults)}: {names}"
            )
        self.default = defaults[0]

    def __iter__(self) -> Iterable[Definition]:
        return iter(self._by_id.values())

    def get(self, survey_id: str) -> Definition | None:
        """The survey with `survey_id`, if it still exists."""
        return self._by_id.get(survey_id)

    def for_dossier(self, procedure_code: str, field: str) -> Definition:
        """The survey for a dossier: one naming its procedure, else its field, else the default."""
        for definition in sorted(self._by_id.values(), key=lambda d: d.id):
            if procedure_code in definition.procedures:
                return definition
        for definition in sorted(self._by_id.values(), key=lambda d: d.id):
            if field in definition.fields:
                return definition
        return self.default


# --------------------------------------------------------------------------- loading


def load_catalog(directory: Path = DEFINITIONS_DIR) -> Catalog:
    """Load and validate every ``*.yaml`` definition in `directory`."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise DefinitionError(f"{directory}: no survey definitions (*.yaml) found")
    return Catalog(load_definition(path) for path in paths)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The definitions shipped in ``surveys/definitions/`` (loaded once)."""
    return load_catalog()


def load_definition(path: Path) -> Definition:
    """Read and validate one definition file."""
    name = _display(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DefinitionError(f"{name}: not valid YAML: {error}") from None
    except OSError as error:
        raise DefinitionError(f"{name}: cannot be read: {error.strerror}") from None
    return parse_definition(raw, source=name)


def parse_definition(raw: object, *, source: str) -> Definition:
    """Validate a definition already parsed from YAML."""
    return _Parser(source).definition(raw)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Parser:
    """Builds a `Definition`, raising errors that say where the problem is."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.question_id: str | None = None

    def fail(self, field: str, problem: str) -> DefinitionError:
        where = f"{self.source}: "
        if self.question_id is not None:
            where += f"question {self.question_id!r}: "
        return DefinitionError(f"{where}field {field!r}: {problem}")

    def mapping(self, value: object, field: str, allowed: Sequence[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(field, "must be a mapping of keys to values")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{field}.{key}" if field else str(key),
                    f"unknown key; expected one of {', '.join(allowed)}",
                )
        return value

    def identifier(self, value: object, field: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(
                field,
                f"must be a lower-case identifier (a-z, 0-9, _; at most 24), got {value!r}"
                + (" (quote yes/no/on/off in YAML)" if isinstance(value, bool) else ""),
            )
        return value

    def texts(self, value: object, field: str) -> Texts:
        texts = self.mapping(value, field, ("vi", "en"))
        for language in ("vi", "en"):
            text = texts.get(language)
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{field}.{language}", "must be a non-empty text")
        return Texts(vi=texts["vi"].strip(), en=texts["en"].strip())

    def strings(self, value: object, field: str) -> frozenset[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(field, "must be a list of texts")
        return frozenset(value)

    def definition(self, raw: object) -> Definition:
        top = self.mapping(raw, "", ("id", "title", "applies_to", "questions"))
        if "id" not in top:
            raise self.fail("id", "is missing")
        survey_id = self.identifier(top["id"], "id")
        if "title" not in top:
            raise self.fail("title", "is missing")
        title = self.texts(top["title"], "title")
        procedures: frozenset[str] = frozenset()
        fields: frozenset[str] = frozenset()
        if "applies_to" in top:
            applies = self.mapping(top["applies_to"], "applies_to", ("procedures", "fields"))
            procedures = self.strings(applies.get("procedures", []), "applies_to.procedures")
            fields = self.strings(applies.get("fields", []), "applies_to.fields")
            if not procedures and not fields:
                raise self.fail("applies_to", "must name procedures or fields (or be left out)")
        raw_questions = top.get("questions")
        if not isinstance(raw_questions, list) or not raw_questions:
            raise self.fail("questions", "must be a non-empty list")
        if len(raw_questions) > MAX_QUESTIONS:
            raise self.fail("questions", f"at most {MAX_QUESTIONS} questions")
        questions: list[Question] = []
        for number, item in enumerate(raw_questions, start=1):
            questions.append(self.question(item, number, questions))
            self.question_id = None
        first = questions[0]
        if first.type != "rating3" or not first.required or first.when is not None:
            self.question_id = first.id
            raise self.fail(
                "type",
                "the first question must be a required rating3 without 'when' "
                "(it is asked in the invitation itself)",
            )
        return Definition(
            id=survey_id,
            title=title,
            questions=tuple(questions),
            procedures=procedures,
            fields=fields,
            source=self.source,
        )

    def question(self, raw: object, number: int, earlier: Sequence[Question]) -> Question:
        self.question_id = f"#{number}"
        item = self.mapping(
            raw,
            "",
            ("id", "type", "element", "text", "required", "when", "options", "max_length"),
        )
        if "id" not in item:
            raise self.fail("id", "is missing")
        question_id = self.identifier(item["id"], "id")
        self.question_id = question_id
        if any(q.id == question_id for q in earlier):
            raise self.fail("id", "is used by an earlier question")
        kind = item.get("type")
        if kind not in QUESTION_TYPES:
            raise self.fail("type", f"must be one of {', '.join(QUESTION_TYPES)}, got {kind!r}")
        if "text" not in item:
            raise self.fail("text", "is missing")
        text = self.texts(item["text"], "text")
        element = item.get("element")
        if kind == "scale5":
            if element not in ELEMENTS:
                raise self.fail("element", f"must be one of {', '.join(ELEMENTS)}, got {element!r}")
        elif element is not None:
            raise self.fail("element", "only scale5 questions belong to an element")
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise self.fail("required", f"must be true or false, got {required!r}")
        options: tuple[Option, ...] = ()
        if kind == "choice":
            options = self.options(item.get("options"))
        elif "options" in item:
            raise self.fail("options", "only choice questions have options")
        max_length = MAX_TEXT_LENGTH
        if "max_length" in item:
            value = item["max_length"]
            if kind != "text":
                raise self.fail("max_length", "only text questions have a maximum length")
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.fail("max_length", f"must be a whole number, got {value!r}")
            if not 1 <= value <= MAX_TEXT_LENGTH:
                raise self.fail("max_length", f"must be between 1 and {MAX_TEXT_LENGTH}")
            max_length = value
        when = None
        if "when" in item:
            when = self.condition(item["when"], "when", {q.id: q for q in earlier})
        return Question(
            id=question_id,
            type=kind,
            text=text,
            element=element,
            required=required,
            when=when,
            options=options,
            max_length=max_length,
        )

    def options(self, raw: object) -> tuple[Option, ...]:
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
            raise self.fail("options", f"a choice needs a list of 2 to {MAX_OPTIONS} options")
        options: list[Option] = []
        for index, item in enumerate(raw):
            field = f"options[{index}]"
            option = self.mapping(item, field, ("id", "text"))
            option_id = self.identifier(option.get("id"), f"{field}.id")
            if any(o.id == option_id for o in options):
                raise self.fail(f"{field}.id", f"option id {option_id!r} is repeated")
            if "text" not in option:
                raise self.fail(f"{field}.text", "is missing")
            options.append(Option(option_id, self.texts(option["text"], f"{field}.text")))
        return tuple(options)

    def condition(self, raw: object, field: str, earlier: Mapping[str, Question]) -> Condition:
        if not isinstance(raw, Mapping) or not raw:
            raise self.fail(field, "must be a condition mapping")
        for operator in ("any", "all"):
            if operator in raw:
                parts = raw[operator]
                if len(raw) != 1 or not isinstance(parts, list) or not parts:
                    raise self.fail(f"{field}.{operator}", "must be the only key, with a list")
                return Combined(
                    operator,
                    tuple(
                        self.condition(part, f"{field}.{operator}[{i}]", earlier)
                        for i, part in enumerate(parts)
                    ),
                )
        if "not" in raw:
            if len(raw) != 1:
                raise self.fail(f"{field}.not", "must be the only key")
            return Combined("not", (self.condition(raw["not"], f"{field}.not", earlier),))
        if "answered" in raw:
            if len(raw) != 1:
                raise self.fail(f"{field}.answered", "must be the only key")
            return Answered(self.reference(raw["answered"], f"{field}.answered", earlier).id)
        test = self.mapping(raw, field, ("question", "in", "at_most", "at_least"))
        if "question" not in test:
            raise self.fail(f"{field}.question", "is missing")
        names = test["question"] if isinstance(test["question"], list) else [test["question"]]
        if not names:
            raise self.fail(f"{field}.question", "must name at least one question")
        referenced = [self.reference(n, f"{field}.question", earlier) for n in names]
        tests = [key for key in ("in", "at_most", "at_least") if key in test]
        if len(tests) != 1:
            raise self.fail(field, "needs exactly one of in, at_most, at_least")
        key = tests[0]
        ids = tuple(q.id for q in referenced)
        if key == "in":
            values = test["in"]
            if not isinstance(values, list) or not values:
                raise self.fail(f"{field}.in", "must be a non-empty list of answers")
            for question in referenced:
                valid = question.valid_values()
                if valid is None:
                    raise self.fail(
                        f"{field}.in", f"question {question.id!r} is free text; use 'answered'"
                    )
                for value in values:
                    if value not in valid:
                        raise self.fail(
                            f"{field}.in",
                            f"{value!r} is not an answer of question {question.id!r} "
                            f"({', '.join(sorted(map(str, valid)))})",
                        )
            return AnswerIn(ids, frozenset(values))
        limit = test[key]
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise self.fail(f"{field}.{key}", f"must be a whole number, got {limit!r}")
        for question in referenced:
            if question.type not in ("scale5", "rating3"):
                raise self.fail(
                    f"{field}.{key}", f"question {question.id!r} has no numeric answers"
                )
        return AnswerBound(ids, limit, upper=key == "at_most")

    def reference(self, name: object, field: str, earlier: Mapping[str, Question]) -> Question:
        if not isinstance(name, str) or name not in earlier:
            raise self.fail(field, f"{name!r} is not a question asked before this one")
        return earlier[name]
