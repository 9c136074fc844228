"""Survey definitions: the shipped ones load; malformed ones are refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveys import flow
from surveys.definitions import (
    Definition,
    DefinitionError,
    default_catalog,
    load_catalog,
    load_definition,
)

GOOD = Path(__file__).resolve().parents[2] / "surveys" / "definitions" / "default.yaml"


def test_the_shipped_definitions_load_and_choose_by_field() -> None:
    catalog = default_catalog()
    assert catalog.default.id == "default"
    assert catalog.for_dossier("1.001193", "Hộ tịch").id == "default"
    assert catalog.for_dossier("x", "Đất đai").id == "land"
    elements = {q.element for q in catalog.default.questions if q.scored}
    assert elements == {"access", "procedure", "staff", "result", "feedback"}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("element: staff", "element: staf"), "question 'staff': field 'element'"),
        (
            ("type: scale5\n    element: result", "type: slider\n    element: result"),
            "question 'result': field 'type'",
        ),
        (
            (
                "when: {question: more, in: [accept]}\n    text:\n      vi: >-\n        Ông/Bà"
                " hài lòng thế nào về sự thuận tiện",
                "when: {question: later, in: [accept]}\n    text:\n      vi: >-\n        Ông/Bà"
                " hài lòng thế nào về sự thuận tiện",
            ),
            "question 'access': field 'when.question'",
        ),
        (("      - id: decline", "      - id: no"), "question 'more': field 'options[1].id'"),
        (
            ("{question: quick, in: [1]}", "{question: quick, in: [7]}"),
            "question 'what_wrong': field 'when.in'",
        ),
    ],
)
def test_a_malformed_definition_names_file_question_and_field(
    tmp_path: Path, change: tuple[str, str], needle: str
) -> None:
    original = GOOD.read_text(encoding="utf-8")
    assert change[0] in original
    path = _write(tmp_path, original.replace(change[0], change[1], 1))
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    assert str(path) in str(caught.value) or "broken.yaml" in str(caught.value)
    assert needle in str(caught.value)


def test_a_missing_english_text_is_named(tmp_path: Path) -> None:
    text = GOOD.read_text(encoding="utf-8").replace(
        "      en: How satisfied are you with how your dossier was handled?\n", "", 1
    )
    with pytest.raises(DefinitionError, match=r"question 'quick': field 'text.en'"):
        load_definition(_write(tmp_path, text))


def test_the_catalog_needs_exactly_one_default(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        GOOD.read_text(encoding="utf-8").replace("id: default", "id: other", 1), encoding="utf-8"
    )
    with pytest.raises(DefinitionError, match="exactly one survey definition"):
        load_catalog(tmp_path)


def test_the_flow_asks_the_comment_only_after_a_low_score() -> None:
    definition = default_catalog().default
    happy = flow.begin(definition, 3)
    assert happy.progress.current == "more"
    done = flow.answer(definition, happy.progress, "decline")
    assert done.progress.finished
    unhappy = flow.begin(definition, 1)
    assert unhappy.progress.current == "what_wrong"  # asked at once after "not satisfied"
    offered = flow.skip(definition, unhappy.progress)
    assert offered.progress.current == "more"
    assert flow.answer(definition, offered.progress, "decline").progress.finished  # once only
    low = flow.answer(definition, flow.answer(definition, happy.progress, "accept").progress, 2)
    for _ in range(4):
        low = flow.skip(definition, low.progress)
    assert low.progress.current == "comment"  # a low element score asks at the end
    with pytest.raises(flow.RequiredQuestion):
        flow.skip(definition, happy.progress)
    # Changing "accept" to "decline" drops the element answers no longer asked.
    step = flow.answer(definition, happy.progress, "accept")
    step = flow.answer(definition, step.progress, 5)
    back = flow.back(definition, flow.back(definition, step.progress).progress)
    assert back.progress.current == "more"
    changed = flow.answer(definition, back.progress, "decline")
    assert changed.removed == frozenset({"access"})
    assert changed.progress.finished


@pytest.mark.parametrize("definition", list(default_catalog()), ids=lambda d: d.id)
def test_the_offer_counts_the_numbered_questions(definition: Definition) -> None:
    offer = next(q for q in definition.questions if q.type == "choice")
    count = len(definition.numbered)
    assert f"{count} câu hỏi" in offer.text.vi
    assert f"{count} more" in offer.text.en


@pytest.mark.parametrize("definition", list(default_catalog()), ids=lambda d: d.id)
def test_scale_questions_are_asked_as_their_scale(definition: Definition) -> None:
    for question in definition.questions:
        if question.type in ("scale5", "rating3"):
            assert "hài lòng thế nào" in question.text.vi, question.id
            assert "how satisfied" in question.text.en.lower(), question.id
