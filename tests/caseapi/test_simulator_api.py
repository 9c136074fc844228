"""The simulator's HTTP contract (design §4) and admin endpoints, over real HTTP."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.caseapi.simulator import RunningSimulator, SimDossier, run_simulator
from bot.domain.dossier import Dossier
from bot.domain.status import Status
from tests.caseapi.conftest import NOW, TOKEN, FakeClock


def first(sim: RunningSimulator, status: Status, skip: int = 0) -> SimDossier:
    """A dossier of the simulator in `status`."""
    codes = sim.state.codes_in([status])
    dossier = sim.state.get(codes[skip])
    assert dossier is not None
    return dossier


def status_of(sim: RunningSimulator, code: str) -> Status | None:
    """The status dossier `code` has in the simulator's state."""
    dossier = sim.state.get(code)
    return None if dossier is None else dossier.status


async def move(
    client: httpx.AsyncClient, code: str, status: str | None, **extra: Any
) -> httpx.Response:
    return await client.post(f"/admin/dossiers/{code}/status", json={"status": status, **extra})


# ---------------------------------------------------------------------------- authentication


PROTECTED = [
    ("GET", "/v1/dossiers/000.00.15.H12-250618-0001"),
    ("POST", "/v1/dossiers/000.00.15.H12-250618-0001/verify"),
    ("GET", "/v1/changes"),
    ("GET", "/admin/samples"),
    ("POST", "/admin/dossiers"),
    ("POST", "/admin/dossiers/000.00.15.H12-250618-0001/status"),
]


async def test_v1_and_admin_need_the_bearer_token(sim: RunningSimulator) -> None:
    before = sim.state.sequence
    async with httpx.AsyncClient(base_url=sim.url) as anonymous:
        for method, path in PROTECTED:
            for authorization in (None, f"Basic {TOKEN}", "Bearer wrong-token", "Bearer", TOKEN):
                headers = {} if authorization is None else {"Authorization": authorization}
                response = await anonymous.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (method, path, authorization)
                assert response.json() == {"error": "unauthorized"}
                assert response.headers["www-authenticate"] == "Bearer"
    assert sim.state.sequence == before  # nothing was created or moved


async def test_health_needs_no_token(sim: RunningSimulator) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as anonymous:
        response = await anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "dossiers": 3000}


# ---------------------------------------------------------------------------- dossiers


async def test_a_dossier_is_served_in_the_contract_shape(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    for status in Status:
        if not sim.state.count(status):
            continue
        expected = first(sim, status)
        response = await sim_client.get(f"/v1/dossiers/{expected.code}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert set(body) == {
            "code", "status", "status_code", "status_changed_at", "procedure", "agency",
            "applicant", "received_at", "due_at", "original_due_at", "returned_at",
            "delivery", "pickup", "fee", "note",
        }  # fmt: skip
        assert "pin" not in response.text
        assert expected.phone not in response.text
        dossier = Dossier.model_validate(body)
        assert dossier.code == expected.code
        assert dossier.status is status
        assert dossier.status_changed_at == expected.status_changed_at


async def test_an_unknown_dossier_is_404_not_found(sim_client: httpx.AsyncClient) -> None:
    response = await sim_client.get("/v1/dossiers/000.00.15.H12-991231-0001")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found"}


async def test_unknown_paths_and_methods_answer_json(sim_client: httpx.AsyncClient) -> None:
    response = await sim_client.get("/v1/nothing-here")
    assert (response.status_code, response.json()) == (404, {"error": "not_found"})
    response = await sim_client.delete("/v1/changes")
    assert (response.status_code, response.json()) == (405, {"error": "method_not_allowed"})


# ---------------------------------------------------------------------------- verify


async def test_verify_by_pin(sim: RunningSimulator, sim_client: httpx.AsyncClient) -> None:
    dossier = first(sim, Status.PROCESSING)
    url = f"/v1/dossiers/{dossier.code}/verify"
    right = await sim_client.post(url, json={"pin": dossier.pin})
    assert (right.status_code, right.json()) == (200, {"verified": True})
    wrong_pin = f"{(int(dossier.pin) + 1) % 1_000_000:06d}"
    wrong = await sim_client.post(url, json={"pin": wrong_pin})
    assert (wrong.status_code, wrong.json()) == (200, {"verified": False})
    empty = await sim_client.post(url, json={"pin": ""})
    assert empty.json() == {"verified": False}


async def test_verify_by_phone_in_any_usual_spelling(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    dossier = first(sim, Status.READY)
    national = dossier.phone.removeprefix("+84")
    url = f"/v1/dossiers/{dossier.code}/verify"
    for spelling in (
        dossier.phone,
        "0" + national,
        f"0{national[:3]} {national[3:6]} {national[6:]}",
        "84" + national,
    ):
        response = await sim_client.post(url, json={"phone": spelling})
        assert response.json() == {"verified": True}, spelling
    other = dossier.phone[:-1] + ("1" if dossier.phone[-1] != "1" else "2")
    for wrong in (other, "not a phone", "+1" + national):
        response = await sim_client.post(url, json={"phone": wrong})
        assert response.json() == {"verified": False}, wrong


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[1, 2]",
        b"{}",
        b'{"pin": "123456", "phone": "0912345678"}',
        b'{"pin": 123456}',
        b'{"phone": null}',
    ],
)
async def test_verify_refuses_a_bad_body(
    sim: RunningSimulator, sim_client: httpx.AsyncClient, content: bytes
) -> None:
    dossier = first(sim, Status.RETURNED)
    response = await sim_client.post(f"/v1/dossiers/{dossier.code}/verify", content=content)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


async def test_verify_of_an_unknown_dossier_is_404(sim_client: httpx.AsyncClient) -> None:
    response = await sim_client.post(
        "/v1/dossiers/000.00.15.H12-991231-0001/verify", json={"pin": "123456"}
    )
    assert (response.status_code, response.json()) == (404, {"error": "not_found"})


# ---------------------------------------------------------------------------- changes


async def test_changes_without_cursor_start_from_now(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    sim.state.move(first(sim, Status.READY).code, Status.RETURNED, NOW)
    response = await sim_client.get("/v1/changes")
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == []
    assert isinstance(body["cursor"], str)
    assert body["cursor"]
    again = await sim_client.get("/v1/changes", params={"cursor": body["cursor"]})
    assert again.json() == {"items": [], "cursor": body["cursor"]}


async def test_changes_come_oldest_first_and_a_twice_changed_dossier_once(
    sim: RunningSimulator, sim_client: httpx.AsyncClient, sim_clock: FakeClock
) -> None:
    cursor = (await sim_client.get("/v1/changes")).json()["cursor"]
    a, b, c = (first(sim, Status.PROCESSING, skip=i).code for i in range(3))
    sim.state.move(a, Status.SUPPLEMENT_REQUIRED, sim_clock.now())
    sim.state.move(b, Status.READY, sim_clock.now())
    sim.state.move(c, Status.READY, sim_clock.now())
    sim_clock.advance(minutes=5)
    sim.state.move(a, Status.PROCESSING, sim_clock.now())  # a changed again, after c

    body = (await sim_client.get("/v1/changes", params={"cursor": cursor})).json()
    assert [item["code"] for item in body["items"]] == [b, c, a]
    assert body["items"][2]["status"] == "processing"
    for item in body["items"]:
        Dossier.model_validate(item)
    later = (await sim_client.get("/v1/changes", params={"cursor": body["cursor"]})).json()
    assert later["items"] == []


async def test_changes_page_with_the_limit_and_lose_nothing(
    sim: RunningSimulator, sim_client: httpx.AsyncClient, sim_clock: FakeClock
) -> None:
    cursor = (await sim_client.get("/v1/changes")).json()["cursor"]
    codes = sim.state.codes_in([Status.READY])[:25]
    for code in codes:
        sim.state.move(code, Status.RETURNED, sim_clock.now())
    seen: list[str] = []
    pages = 0
    while True:
        response = await sim_client.get("/v1/changes", params={"cursor": cursor, "limit": 10})
        body = response.json()
        pages += 1
        seen += [item["code"] for item in body["items"]]
        cursor = body["cursor"]
        if not body["items"]:
            break
    assert seen == codes
    assert pages == 4  # 10 + 10 + 5, then an empty page
    assert all(status_of(sim, code) is Status.RETURNED for code in seen)


async def test_changes_default_limit_is_100(
    sim: RunningSimulator, sim_client: httpx.AsyncClient, sim_clock: FakeClock
) -> None:
    cursor = (await sim_client.get("/v1/changes")).json()["cursor"]
    for _ in range(130):
        sim.state.create(sim_clock.now())
    body = (await sim_client.get("/v1/changes", params={"cursor": cursor})).json()
    assert len(body["items"]) == 100
    rest = (await sim_client.get("/v1/changes", params={"cursor": body["cursor"]})).json()
    assert len(rest["items"]) == 30


@pytest.mark.parametrize("limit", ["0", "1001", "-5", "ten", "1.5"])
async def test_changes_refuse_a_limit_outside_1_to_1000(
    sim_client: httpx.AsyncClient, limit: str
) -> None:
    cursor = (await sim_client.get("/v1/changes")).json()["cursor"]
    response = await sim_client.get("/v1/changes", params={"cursor": cursor, "limit": limit})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


async def test_changes_accept_the_largest_limit(sim_client: httpx.AsyncClient) -> None:
    cursor = (await sim_client.get("/v1/changes")).json()["cursor"]
    response = await sim_client.get("/v1/changes", params={"cursor": cursor, "limit": 1000})
    assert response.status_code == 200


@pytest.mark.parametrize("cursor", ["garbage", "abc-", "-12", "x-1-2-z"])
async def test_changes_refuse_a_cursor_they_did_not_issue(
    sim_client: httpx.AsyncClient, cursor: str
) -> None:
    response = await sim_client.get("/v1/changes", params={"cursor": cursor})
    assert (response.status_code, response.json()["error"]) == (400, "bad_request")


async def test_a_cursor_from_the_future_is_refused(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    response = await sim_client.get("/v1/changes", params={"cursor": sim.state.cursor(99)})
    assert response.status_code == 400


async def test_a_cursor_of_an_earlier_run_replays_this_run(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    code = first(sim, Status.READY).code
    sim.state.move(code, Status.RETURNED, NOW)
    response = await sim_client.get("/v1/changes", params={"cursor": "0123abcd-4242"})
    assert [item["code"] for item in response.json()["items"]] == [code]


# ---------------------------------------------------------------------------- admin


async def test_admin_move_changes_the_dossier_and_feeds_the_change(
    sim: RunningSimulator, sim_client: httpx.AsyncClient, sim_clock: FakeClock
) -> None:
    cursor = (await sim_client.get("/v1/changes")).json()["cursor"]
    dossier = first(sim, Status.PROCESSING)
    sim_clock.advance(hours=2)
    response = await move(sim_client, dossier.code, "ready")
    assert response.status_code == 200
    moved = Dossier.model_validate(response.json())
    assert moved.status is Status.READY
    assert moved.status_code == 9
    assert moved.status_changed_at == sim_clock.now()
    assert moved.pickup is not None or moved.delivery == "post"

    fetched = (await sim_client.get(f"/v1/dossiers/{dossier.code}")).json()
    assert fetched == response.json()
    feed = (await sim_client.get("/v1/changes", params={"cursor": cursor})).json()
    assert [item["code"] for item in feed["items"]] == [dossier.code]
    assert feed["items"][0]["status"] == "ready"

    returned = (await move(sim_client, dossier.code, "returned")).json()
    assert returned["returned_at"] == returned["status_changed_at"]


async def test_admin_move_with_a_note(sim: RunningSimulator, sim_client: httpx.AsyncClient) -> None:
    dossier = first(sim, Status.PROCESSING)
    note = "Bổ sung bản sao sổ hộ khẩu."
    response = await move(sim_client, dossier.code, "supplement_required", note=note)
    assert response.json()["note"] == note
    default = await move(sim_client, first(sim, Status.PROCESSING).code, "stopped")
    assert default.json()["note"]  # a stop always says why


async def test_admin_extension_keeps_the_original_date_and_apologises(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    dossier = first(sim, Status.PROCESSING)
    assert dossier.due_at is not None
    assert dossier.original_due_at is None
    original = dossier.due_at
    new_due = (original + timedelta(days=7)).isoformat()
    response = await move(sim_client, dossier.code, "processing", due_at=new_due)
    assert response.status_code == 200
    body = Dossier.model_validate(response.json())
    assert body.is_extended
    assert body.original_due_at == original
    assert body.due_at == datetime.fromisoformat(new_due)
    assert body.note is not None
    assert "xin lỗi" in body.note
    assert body.status is Status.PROCESSING
    # A second extension keeps the very first appointment.
    newer = (original + timedelta(days=14)).isoformat()
    again = Dossier.model_validate(
        (await move(sim_client, dossier.code, "processing", due_at=newer)).json()
    )
    assert again.original_due_at == original


@pytest.mark.parametrize(
    ("status", "extra", "expected"),
    [
        ("returned", {}, 409),  # processing cannot jump to returned
        ("processing", {}, 409),  # already processing, and no new date
        ("done", {}, 400),
        (None, {}, 400),
        ("processing", {"due_at": "next week"}, 400),
        ("processing", {"due_at": "2020-01-01T17:00:00+07:00"}, 400),  # earlier
        ("processing", {"due_at": "2030-01-01T17:00:00"}, 400),  # no offset
        ("ready", {"note": 5}, 400),
    ],
)
async def test_admin_move_refuses_what_makes_no_sense(
    sim: RunningSimulator,
    sim_client: httpx.AsyncClient,
    status: str | None,
    extra: dict[str, Any],
    expected: int,
) -> None:
    dossier = first(sim, Status.PROCESSING)
    before = dossier.to_json()
    response = await move(sim_client, dossier.code, status, **extra)
    assert response.status_code == expected
    assert response.json()["error"] in ("invalid_transition", "bad_request")
    assert dossier.to_json() == before


async def test_admin_move_of_an_unknown_dossier_is_404(sim_client: httpx.AsyncClient) -> None:
    response = await move(sim_client, "000.00.15.H12-991231-0001", "ready")
    assert (response.status_code, response.json()) == (404, {"error": "not_found"})


async def test_a_final_dossier_does_not_move(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    dossier = first(sim, Status.RETURNED)
    response = await move(sim_client, dossier.code, "processing")
    assert response.status_code == 409


async def test_samples_carry_pin_and_phone_that_verify(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    response = await sim_client.get("/admin/samples", params={"status": "ready", "limit": 3})
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 3
    times = [item["dossier"]["status_changed_at"] for item in items]
    assert times == sorted(times, reverse=True)  # the most recent first
    for item in items:
        assert item["dossier"]["status"] == "ready"
        code = item["dossier"]["code"]
        url = f"/v1/dossiers/{code}/verify"
        assert (await sim_client.post(url, json={"pin": item["pin"]})).json()["verified"]
        assert (await sim_client.post(url, json={"phone": item["phone"]})).json()["verified"]


async def test_samples_without_status_and_with_bad_parameters(
    sim_client: httpx.AsyncClient,
) -> None:
    assert len((await sim_client.get("/admin/samples")).json()["items"]) == 10
    bad_status = await sim_client.get("/admin/samples", params={"status": "lost"})
    assert bad_status.status_code == 400
    bad_limit = await sim_client.get("/admin/samples", params={"limit": 1001})
    assert bad_limit.status_code == 400


async def test_admin_creates_a_dossier_received_today(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    cursor = (await sim_client.get("/v1/changes")).json()["cursor"]
    response = await sim_client.post("/admin/dossiers")
    assert response.status_code == 201
    body = response.json()
    dossier = Dossier.model_validate(body["dossier"])
    assert dossier.status is Status.RECEIVED
    assert dossier.received_at == NOW
    assert dossier.code.split("-")[1] == "250618"
    assert dossier.due_at is not None
    assert dossier.due_at >= dossier.received_at
    verified = await sim_client.post(
        f"/v1/dossiers/{dossier.code}/verify", json={"pin": body["pin"]}
    )
    assert verified.json() == {"verified": True}
    feed = (await sim_client.get("/v1/changes", params={"cursor": cursor})).json()
    assert [item["code"] for item in feed["items"]] == [dossier.code]


async def test_admin_creates_a_dossier_as_asked(
    sim: RunningSimulator, sim_client: httpx.AsyncClient
) -> None:
    response = await sim_client.post(
        "/admin/dossiers",
        json={
            "procedure": "1.009994",
            "applicant": "Trần Thị Bé",
            "phone": "0912 345 678",
            "pin": "424242",
            "delivery": "post",
        },
    )
    body = response.json()
    assert response.status_code == 201
    assert body["pin"] == "424242"
    assert body["phone"] == "+84912345678"
    dossier = body["dossier"]
    assert dossier["procedure"]["name"] == "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ"
    assert dossier["agency"]["name"] == "UBND huyện Dầu Tiếng"
    assert dossier["applicant"] == {"name": "Trần Thị Bé"}
    assert dossier["delivery"] == "post"
    assert dossier["due_at"] == "2025-07-09T17:00:00+07:00"  # 15 working days
    # The daily sequence continues after today's generated dossiers of that agency.
    todays = [
        d.code
        for d in sim.state
        if d.code.startswith("000.00.15.H12-250618-") and d.code != dossier["code"]
    ]
    assert int(dossier["code"][-4:]) == len(todays) + 1


@pytest.mark.parametrize(
    "body",
    [
        {"procedure": "9.999999"},
        {"agency": "000.99.15.H12"},
        {"procedure": "1.009994", "agency": "000.02.15.H12"},  # a district procedure
        {"phone": "12"},
        {"pin": "12ab"},
        {"delivery": "drone"},
    ],
)
async def test_admin_create_refuses_what_makes_no_sense(
    sim_client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    response = await sim_client.post("/admin/dossiers", json=body)
    assert (response.status_code, response.json()["error"]) == (400, "bad_request")


async def test_latency_delays_every_v1_request() -> None:
    async with (
        run_simulator(dossiers=200, token=TOKEN, now=NOW, latency=0.2) as sim,
        httpx.AsyncClient(base_url=sim.url, headers=sim.headers) as client,
    ):
        started = time.perf_counter()
        response = await client.get("/v1/changes")
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.15  # delayed (timers may fire a little early: no bound at 0.2 s)
