"""scripts/webhook_receiver.py, the partner-side check the docs give: it accepts the Standard
Webhooks specification's own published example, refuses tampering, old timestamps and other
secrets, and accepts what our signer sends, so the two agree through the specification."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shared.events import webhook_headers
from tests.e2e.conftest import ROOT, free_port

sys.path.insert(0, str(ROOT / "scripts"))
from webhook_receiver import Rejected, verify

# The example in the Standard Webhooks specification (standard-webhooks/spec.md, "Signature scheme").
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_HEADERS = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
SPEC_BODY = b'{"test": 2432232314}'


def test_the_specifications_example_verifies() -> None:
    assert verify([SPEC_SECRET], SPEC_HEADERS, SPEC_BODY, now=1614265330) == "msg_p5jXN8AQM9LWM0D4loKWxJek"


@pytest.mark.parametrize(("change", "why"), [
    ({"body": b'{"test": 2432232315}'}, "no signature matches"),
    ({"now": 1614265330 + 301}, "timestamp outside"),
    ({"secrets": ["whsec_" + base64.b64encode(b"another key of 24 bytes!").decode()]}, "no signature matches"),
    ({"headers": {**SPEC_HEADERS, "webhook-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}}, "no signature"),
    ({"headers": {k: v for k, v in SPEC_HEADERS.items() if k != "webhook-id"}}, "missing"),
])
def test_tampering_old_deliveries_and_other_secrets_are_refused(change: dict, why: str) -> None:
    args = {"secrets": [SPEC_SECRET], "headers": SPEC_HEADERS, "body": SPEC_BODY, "now": 1614265330} | change
    with pytest.raises(Rejected, match=why):
        verify(args["secrets"], args["headers"], args["body"], now=args["now"])


def test_during_a_rotation_either_secret_and_either_signature_verifies() -> None:
    other = "whsec_" + base64.b64encode(b"the new key, 24 bytes ok").decode()
    both = {**SPEC_HEADERS, "webhook-signature": "v1,bm90IHRoaXMgb25l " + SPEC_HEADERS["webhook-signature"]}
    assert verify([other, SPEC_SECRET], both, SPEC_BODY, now=1614265330)


async def test_the_receiver_accepts_what_our_signer_sends_and_refuses_the_rest(tmp_path: Path) -> None:
    secret = "whsec_" + base64.b64encode(b"a partner endpoint's key!").decode()
    (tmp_path / "secret").write_text(secret + "\n")
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "webhook_receiver.py"), "--port", str(port),  # noqa: S603
                             "--secret-file", str(tmp_path / "secret")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert (await asyncio.to_thread(proc.stdout.readline)).startswith("listening on")
        body = json.dumps({"type": "referral.decided", "timestamp": "2026-12-05T10:00:00Z",
                           "data": {"event_id": "e1", "referral_id": "r1"}}).encode()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            ok = await http.post("/", content=body, headers=webhook_headers(secret, "evt-1", body))
            again = await http.post("/", content=body, headers=webhook_headers(secret, "evt-1", body))
            forged = await http.post("/", content=body, headers=webhook_headers("whsec_" + base64.b64encode(b"x" * 24).decode(), "evt-2", body))
        assert (ok.status_code, again.status_code, forged.status_code) == (204, 204, 401)
        lines = [await asyncio.to_thread(proc.stdout.readline) for _ in range(3)]
        assert lines[0] == 'verified referral.decided {"event_id": "e1", "referral_id": "r1"}\n'
        assert lines[1].startswith("duplicate referral.decided")
        assert lines[2].startswith("REJECTED no signature matches")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
