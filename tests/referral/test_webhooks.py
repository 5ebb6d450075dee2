"""Partner webhooks through HTTP, with real local receivers that check the signature with
scripts/webhook_receiver.py's ``verify``: registration and its SSRF checks, who is told of
what (real records of other agencies), thin signed payloads, rotation, ping, retries, dead
letters and redelivery, and a partner that hangs holding up no one."""

from __future__ import annotations

import ipaddress
import json
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select, update

from services.referral.app import create_app
from services.referral.models import WebhookDelivery, WebhookFanout
from services.referral.settings import ReferralSettings
from services.referral.webhook_worker import WebhookDeliverer, WebhookFanOut, webhook_client
from shared import ssrf
from shared.db import utcnow
from tests.e2e.conftest import ROOT
from tests.referral.factories_practice import Partner, assert_problem, child_of, partner
from tests.referral.factories_records import created, decide
from tests.referral.factories_referrals import referral_body
from tests.support import Keys, TokenFor, common_settings, isolated

sys.path.insert(0, str(ROOT / "scripts"))
from webhook_receiver import Rejected, verify

MANAGE = "webhooks:manage"
RW = ("referral:read", "referral:write")


class Receiver:
    """A partner's endpoint on 127.0.0.1: answers ``status`` (204 by default), or waits for
    ``release`` first; keeps every request and which of ``secrets`` verified it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 204
        self.secrets: list[str] = []
        self.release: threading.Event | None = None
        self.received = threading.Event()
        self.waited_for_release: bool | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = []
                for secret in receiver.secrets:
                    try:
                        verify([secret], headers, body)
                        verified.append(secret)
                    except Rejected:
                        pass
                receiver.requests.append({"headers": headers, "body": json.loads(body), "verified": verified})
                receiver.received.set()
                if receiver.release is not None:
                    receiver.waited_for_release = receiver.release.wait(timeout=20)
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests]

    def close(self) -> None:
        if self.release is not None:
            self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for r in made:
        r.close()


def receiver(made: list[Receiver]) -> Receiver:
    r = Receiver()
    made.append(r)
    return r


@pytest.fixture(scope="module")
async def hooks_app(keys: Keys, referral_url: str) -> AsyncIterator[FastAPI]:
    # Receivers on localhost over http: the development setting make run uses.
    app = create_app(ReferralSettings(**common_settings(keys, referral_url), webhook_allow_private_urls=True))  # type: ignore[arg-type]
    yield app
    await app.state.db.dispose()


@pytest.fixture
async def api(hooks_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with isolated(hooks_app, "http://referral") as client:
        yield client


def manage(p: Partner, **extra: str) -> dict[str, str]:
    return p.headers(MANAGE, **extra)


async def register(api: httpx.AsyncClient, p: Partner, url: str, *event_types: str) -> dict[str, Any]:
    return created(await api.post("/v1/webhook-endpoints", headers=manage(p),
                                  json={"url": url, "event_types": list(event_types)}))


async def run_workers(app: FastAPI, *, limit_seconds: float = 5.0, max_attempts: int = 3) -> WebhookDeliverer:
    """Fan out what is queued, then send what is due, once, as the workers would."""
    while await WebhookFanOut(app.state.db, list(app.state.settings.full_access_agency_types)).run_once():
        pass
    async with webhook_client(limit_seconds) as client:
        deliverer = WebhookDeliverer(app.state.db, client, allow_private=app.state.settings.webhook_allow_private_urls,
                                     timeout=limit_seconds, max_attempts=max_attempts, backoff_cap=1.0, concurrency=20)
        await deliverer.run_once()
    return deliverer


async def make_due(app: FastAPI) -> None:
    async with app.state.db.sessions() as session:
        await session.exec(update(WebhookDelivery).where(col(WebhookDelivery.status) == "pending")
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        await session.commit()


async def deliveries(api: httpx.AsyncClient, p: Partner, endpoint_id: str, **params: str) -> list[dict[str, Any]]:
    r = await api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=manage(p), params=params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


# --- Registration ---------------------------------------------------------------------

async def test_an_agency_manages_its_own_endpoints_and_sees_the_secret_once(
    api: httpx.AsyncClient, token_for: TokenFor, receivers: list[Receiver],
) -> None:
    school, other = await partner(api, token_for, "school"), await partner(api, token_for, "police")
    url = receiver(receivers).url
    r = await api.post("/v1/webhook-endpoints", headers=manage(school),
                       json={"url": url, "event_types": ["referral.decided"], "description": "MIS"})
    body = created(r)
    assert r.headers["location"] == f"/v1/webhook-endpoints/{body['id']}"
    assert body["secret"].startswith("whsec_")
    assert len(body["secret"]) > 40
    assert (body["url"], body["event_types"], body["enabled"], body["version"]) == (url, ["referral.decided"], True, 1)

    read = await api.get(f"/v1/webhook-endpoints/{body['id']}", headers=manage(school))
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert "secret" not in read.json()
    listed = (await api.get("/v1/webhook-endpoints", headers=manage(school))).json()["items"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    # Another agency neither lists nor reads nor changes it.
    assert (await api.get("/v1/webhook-endpoints", headers=manage(other))).json()["items"] == []
    for method in ("GET", "DELETE"):
        assert_problem(await api.request(method, f"/v1/webhook-endpoints/{body['id']}", headers=manage(other)), 404,
                       "webhook-endpoint-not-found")
    assert_problem(await api.post(f"/v1/webhook-endpoints/{body['id']}/rotate-secret", headers=manage(other)), 404)
    # The scope is needed.
    assert_problem(await api.get("/v1/webhook-endpoints", headers=school.headers(*RW)), 403, "insufficient-scope")

    change = {"event_types": ["referral.decided", "referral.feedback_sent"], "enabled": False}
    assert_problem(await api.patch(f"/v1/webhook-endpoints/{body['id']}", headers=manage(school), json=change), 428)
    assert_problem(await api.patch(f"/v1/webhook-endpoints/{body['id']}", headers=manage(school, **{"If-Match": '"7"'}),
                                   json=change), 412)
    changed = await api.patch(f"/v1/webhook-endpoints/{body['id']}", headers=manage(school, **{"If-Match": '"1"'}),
                              json=change)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["event_types"], changed.json()["enabled"], changed.json()["version"]) == (
        change["event_types"], False, 2)
    bad = await api.patch(f"/v1/webhook-endpoints/{body['id']}", headers=manage(school, **{"If-Match": '"2"'}),
                          json={"event_types": ["child.secret_thoughts"]})
    assert_problem(bad, 422, "validation-error")

    assert (await api.delete(f"/v1/webhook-endpoints/{body['id']}", headers=manage(school))).status_code == 204
    assert_problem(await api.get(f"/v1/webhook-endpoints/{body['id']}", headers=manage(school)), 404)


@pytest.mark.parametrize(("url", "why"), [
    ("https://127.0.0.1/hook", "loopback"),
    ("https://localhost:8443/hook", "loopback"),
    ("https://10.1.2.3/hook", "private"),
    ("https://192.168.0.10/hook", "private"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("https://100.100.100.200/latest/meta-data/", "metadata"),
    ("https://[::1]/hook", "loopback"),
    ("https://[fd00:ec2::254]/hook", "metadata"),
    ("https://[::ffff:10.0.0.1]/hook", "private"),
    ("https://224.0.0.1/hook", "multicast"),
    ("https://240.0.0.1/hook", "reserved"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("http://93.184.215.14/hook", "https"),
    ("https://user:pw@93.184.215.14/hook", "user name"),
    ("ftp://93.184.215.14/hook", "https"),
])
async def test_urls_reaching_inside_are_refused_and_nothing_is_registered(
    api: httpx.AsyncClient, hooks_app: FastAPI, token_for: TokenFor, monkeypatch: pytest.MonkeyPatch, url: str, why: str,
) -> None:
    monkeypatch.setattr(hooks_app.state.settings, "webhook_allow_private_urls", False)
    school = await partner(api, token_for, "school")
    r = await api.post("/v1/webhook-endpoints", headers=manage(school), json={"url": url, "event_types": ["referral.decided"]})
    problem = assert_problem(r, 422, "unsafe-webhook-url")
    assert why in problem["detail"], problem
    assert problem["errors"][0]["field"] == "body.url"
    assert (await api.get("/v1/webhook-endpoints", headers=manage(school))).json()["items"] == []


async def test_a_public_https_url_is_accepted_without_the_development_setting(
    api: httpx.AsyncClient, hooks_app: FastAPI, token_for: TokenFor, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hooks_app.state.settings, "webhook_allow_private_urls", False)
    school = await partner(api, token_for, "school")
    # An address literal: no DNS needed. Nothing is sent to it here (no worker runs).
    body = await register(api, school, "https://93.184.215.14/hooks/neglect", "referral.decided")
    endpoint = created(await api.post(f"/v1/webhook-endpoints/{body['id']}/ping", headers=manage(school)), 202)
    assert endpoint["status"] == "pending"


async def test_the_address_is_checked_again_at_delivery(
    api: httpx.AsyncClient, hooks_app: FastAPI, token_for: TokenFor, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hooks_app.state.settings, "webhook_allow_private_urls", False)
    answers = {"partner.test": [ipaddress.ip_address("93.184.215.14")]}

    async def dns(host: str, port: int) -> list[Any]:
        return answers[host]

    monkeypatch.setattr(ssrf, "_lookup", dns)
    school = await partner(api, token_for, "school")
    endpoint = await register(api, school, "https://partner.test/hook", "referral.decided")
    created(await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/ping", headers=manage(school)), 202)
    # The name now resolves inside the network (DNS rebinding): the delivery is refused, nothing is sent.
    answers["partner.test"] = [ipaddress.ip_address("10.0.0.5")]
    await run_workers(hooks_app)
    [delivery] = await deliveries(api, school, endpoint["id"])
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 1
    [attempt] = delivery["attempt_log"]
    assert attempt["error"] == "refused: The URL's host resolves to a private address; only public addresses are called."
    assert attempt["status_code"] is None


# --- Who is told what -------------------------------------------------------------------

async def test_an_agency_is_told_only_of_children_it_may_read_and_a_referrer_of_its_decision(
    api: httpx.AsyncClient, hooks_app: FastAPI, token_for: TokenFor, receivers: list[Receiver],
) -> None:
    csc = await partner(api, token_for, "childrens_social_care")
    school_a, school_b = await partner(api, token_for, "school"), await partner(api, token_for, "school")
    police = await partner(api, token_for, "police")
    child_x = (await child_of(api, token_for, school_a))["id"]  # school A's child
    child_y = (await child_of(api, token_for, school_b))["id"]  # school B's child
    ends = {name: receiver(receivers) for name in ("a", "b", "police", "csc")}
    wanted = ("referral.received", "referral.decided")
    for name, who in (("a", school_a), ("b", school_b), ("police", police), ("csc", csc)):
        ends[name].secrets = [(await register(api, who, ends[name].url, *wanted))["secret"]]

    # The police refer school A's child, which they may not read; school B refers its own.
    referral_x = created(await api.post("/v1/referrals", json=referral_body(child_x), headers=police.headers()))
    referral_y = created(await api.post("/v1/referrals", json=referral_body(child_y), headers=school_b.headers()))
    await run_workers(hooks_app)
    received = {name: [(b["type"], b["data"].get("referral_id")) for b in end.bodies()] for name, end in ends.items()}
    assert sorted(received["a"]) == [("referral.received", referral_x["id"])]
    assert sorted(received["b"]) == [("referral.received", referral_y["id"])]
    assert sorted(received["csc"]) == sorted([("referral.received", referral_x["id"]), ("referral.received", referral_y["id"])])
    assert received["police"] == []  # its own referral, but not a child it may read

    for end in ends.values():
        end.requests.clear()
    decided = await decide(api, hooks_app, csc, referral_x["id"], 1, level="3", outcome="s17_assessment",
                           primary_need="N1", override_reason="Differs from the recommendation (test text).")
    await run_workers(hooks_app)
    # The referrer is told the outcome of its own referral: the referral's and the child's ids only.
    [told] = ends["police"].bodies()
    assert told["type"] == "referral.decided"
    assert told["data"] == {"referral_id": referral_x["id"], "child_id": child_x}
    # School A reads the child: the event's ids.
    [a_told] = ends["a"].bodies()
    assert a_told["data"]["referral_id"] == referral_x["id"]
    assert a_told["data"]["child_id"] == child_x
    if decided.get("episode_id"):
        assert a_told["data"]["episode_id"] == decided["episode_id"]
    assert [b["type"] for b in ends["csc"].bodies()] == ["referral.decided"]
    assert ends["b"].requests == []  # school B may not read school A's child, and did not refer it
    # Every delivery verified with its endpoint's secret.
    assert all(r["verified"] for end in ends.values() for r in end.requests)


async def test_the_payload_is_thin_and_signed_as_the_receiver_checks(
    api: httpx.AsyncClient, hooks_app: FastAPI, token_for: TokenFor, receivers: list[Receiver],
) -> None:
    school = await partner(api, token_for, "school")
    end = receiver(receivers)
    endpoint = await register(api, school, end.url, "child.registered")
    end.secrets = [endpoint["secret"], "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"]
    child = await child_of(api, token_for, school, nhs_number="9990000026", la_child_id="WHK0001")
    await run_workers(hooks_app)
    [request] = end.requests
    assert request["verified"] == [endpoint["secret"]]  # ours, not another secret
    assert set(request["body"]) == {"type", "timestamp", "data"}
    assert request["body"]["type"] == "child.registered"
    # Ids only: no name, birth date, NHS number, nor the LA's own child id.
    assert request["body"]["data"] == {"child_id": child["id"], "agency_id": str(school.id)}
    raw = json.dumps(request["body"])
    for personal in (child["given_name"], "9990000026", "WHK0001", child["birth_date"]):
        assert personal not in raw
    headers = request["headers"]
    assert headers["webhook-id"]
    assert headers["webhook-timestamp"].isdigit()
    assert headers["webhook-signature"].startswith("v1,")
    assert " " not in headers["webhook-signature"]
    [delivery] = await deliveries(api, school, endpoint["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 1, 204)
    assert delivery["webhook_id"] == headers["webhook-id"]


async def test_ping_and_rotation_with_both_signatures_in_the_grace_period(
    api: httpx.AsyncClient, hooks_app: FastAPI, token_for: TokenFor, receivers: list[Receiver],
) -> None:
    school = await partner(api, token_for, "school")
    end = receiver(receivers)
    endpoint = await register(api, school, end.url, "referral.decided")
    old = endpoint["secret"]
    rotated = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=manage(school))
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old
    assert new.startswith("whsec_")
    assert rotated.json()["previous_secret_expires_at"] is not None
    end.secrets = [old, new]
    queued = created(await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/ping", headers=manage(school)), 202)
    await run_workers(hooks_app)
    [request] = end.requests
    assert request["body"]["type"] == "webhook.ping"
    assert request["body"]["data"] == {"endpoint_id": endpoint["id"]}
    assert request["headers"]["webhook-id"] == queued["webhook_id"]
    # Two signatures meanwhile: a partner holding either secret verifies it.
    assert len(request["headers"]["webhook-signature"].split()) == 2
    assert sorted(request["verified"]) == sorted([old, new])

    # Without a grace period the old secret stops at once.
    again = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=manage(school),
                           json={"grace_period_seconds": 0})
    newest = again.json()["secret"]
    assert again.json()["previous_secret_expires_at"] is None
    end.secrets = [old, new, newest]
    end.requests.clear()
    created(await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/ping", headers=manage(school)), 202)
    await run_workers(hooks_app)
    assert [r["verified"] for r in end.requests] == [[newest]]
    assert_problem(await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=manage(school),
                                  json={"grace_period_seconds": -1}), 422)


# --- Failures -----------------------------------------------------------------------------

async def test_retries_then_a_dead_letter_then_a_redelivery(
    api: httpx.AsyncClient, hooks_app: FastAPI, token_for: TokenFor, receivers: list[Receiver],
) -> None:
    school = await partner(api, token_for, "school")
    end = receiver(receivers)
    end.status = 500
    endpoint = await register(api, school, end.url, "referral.decided")
    created(await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/ping", headers=manage(school)), 202)
    await run_workers(hooks_app, max_attempts=2)
    [pending] = await deliveries(api, school, endpoint["id"], status="pending")
    assert (pending["attempts"], pending["last_status_code"], pending["last_error"]) == (1, 500, "HTTP 500")
    assert pending["next_attempt_at"] is not None
    await make_due(hooks_app)
    await run_workers(hooks_app, max_attempts=2)
    [dead] = await deliveries(api, school, endpoint["id"], status="dead")
    assert dead["attempts"] == 2
    assert dead["dead_at"] is not None
    assert [a["status_code"] for a in dead["attempt_log"]] == [500, 500]
    assert await deliveries(api, school, endpoint["id"], status="pending") == []

    end.status = 204
    url = f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{dead['id']}/redeliver"
    assert_problem(await api.post(url, headers=manage(await partner(api, token_for, "police"))), 404)
    again = created(await api.post(url, headers=manage(school)), 202)
    assert again["delivery_id"] == dead["id"]
    await run_workers(hooks_app, max_attempts=2)
    [delivered] = await deliveries(api, school, endpoint["id"])
    assert (delivered["status"], delivered["attempts"], delivered["redeliveries"]) == ("delivered", 3, 1)
    assert len({r["headers"]["webhook-id"] for r in end.requests}) == 1  # the same id every time
    assert_problem(await api.post(url, headers=manage(school)), 409, "not-a-dead-letter")
    assert_problem(await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{uuid.uuid4()}/redeliver",
                                  headers=manage(school)), 404, "webhook-delivery-not-found")


async def test_a_hanging_partner_delays_neither_the_write_nor_the_other_partners(
    api: httpx.AsyncClient, hooks_app: FastAPI, token_for: TokenFor, receivers: list[Receiver],
) -> None:
    school = await partner(api, token_for, "school")
    csc = await partner(api, token_for, "childrens_social_care")
    hanging, fine = receiver(receivers), receiver(receivers)
    hanging.release = threading.Event()  # never answers until the test ends
    hanging_end = await register(api, school, hanging.url, "child.registered")
    fine_end = await register(api, csc, fine.url, "child.registered")

    # The write commits without a network call: nothing has been sent when it answers, and
    # the event waits in the fan-out queue.
    child = await child_of(api, token_for, school)
    assert hanging.requests == []
    assert fine.requests == []
    async with hooks_app.state.db.sessions() as session:
        assert (await session.exec(select(WebhookFanout))).all()

    await run_workers(hooks_app, limit_seconds=1.0)
    # The other partner was told, while the hanging one held its connection open.
    assert [b["data"]["child_id"] for b in fine.bodies()] == [child["id"]]
    assert len(hanging.requests) == 1
    [late] = await deliveries(api, school, hanging_end["id"])
    assert (late["status"], late["last_error"], late["last_status_code"]) == ("pending", "timeout", None)
    [done] = await deliveries(api, csc, fine_end["id"])
    assert done["status"] == "delivered"


async def test_deliveries_run_side_by_side(
    api: httpx.AsyncClient, hooks_app: FastAPI, token_for: TokenFor, receivers: list[Receiver],
) -> None:
    """A slow partner answers only once the other partner has been told: both succeed only
    when one delivery does not wait for another."""
    school = await partner(api, token_for, "school")
    csc = await partner(api, token_for, "childrens_social_care")
    slow, fast = receiver(receivers), receiver(receivers)
    slow.release = fast.received
    slow_end = await register(api, school, slow.url, "child.registered")
    fast_end = await register(api, csc, fast.url, "child.registered")
    await child_of(api, token_for, school)
    await run_workers(hooks_app, limit_seconds=15.0)
    assert slow.waited_for_release is True
    assert [d["status"] for d in await deliveries(api, school, slow_end["id"])] == ["delivered"]
    assert [d["status"] for d in await deliveries(api, csc, fast_end["id"])] == ["delivered"]


# --- The documentation -------------------------------------------------------------------

async def test_the_api_document_has_webhooks_with_a_payload_per_event_type(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    hooks = document["webhooks"]
    assert {"referral.decided", "child.registered", "webhook.ping"} <= set(hooks)
    decided = hooks["referral.decided"]["post"]
    ref = decided["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"type", "timestamp", "data"}
    assert "webhook-signature" in decided["description"]
    for path, item in document["paths"].items():
        if path.startswith("/v1/webhook-endpoints"):
            for method, operation in item.items():
                assert operation["summary"], (method, path)
                assert "webhooks:manage" in operation["description"], (method, path)
