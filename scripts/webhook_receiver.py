"""A partner's webhook endpoint for trying webhooks locally: Python's standard library only.

    python3 scripts/webhook_receiver.py --port 8099 --secret-file var/my-webhook-secret

It answers every POST, checks the Standard Webhooks signature with the endpoint's secret
(``whsec_...``, as registration or rotation returned it) and prints one line per delivery:
``verified <type> <data as JSON>`` (answer 204) or ``REJECTED <why>`` (answer 401, so the
sender retries and, in the end, dead-letters it). A webhook-id seen before is acknowledged
and printed as ``duplicate`` (deliveries are at least once). The secret file is read
again for every delivery, so a rotated secret can be written into it while it runs; it may
hold several secrets, one a line, during a rotation's grace period.

The check itself is :func:`verify`: copy it into your own system. What it does:

1. ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` must all be there;
2. the timestamp must be within five minutes of now (replayed old deliveries are refused);
3. the signature is HMAC-SHA256 over ``"<id>.<timestamp>.<raw body>"`` with the secret's
   key (the base64 after ``whsec_``), base64-encoded; the header holds one or more
   space-separated ``v1,<signature>`` entries, any of which may match (compared in
   constant time).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import sys
import time
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOLERANCE_SECONDS = 5 * 60


class Rejected(Exception):
    """Why a delivery is not accepted."""


def verify(secrets: Iterable[str], headers: Mapping[str, str], body: bytes, now: float | None = None) -> str:
    """The delivery's webhook-id when one of the secrets signed it; otherwise :class:`Rejected`."""
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (webhook_id and timestamp.isdigit() and signatures):
        raise Rejected("missing webhook-id, webhook-timestamp or webhook-signature")
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        raise Rejected("timestamp outside five minutes")
    offered = [value for version, _, value in (s.partition(",") for s in signatures.split()) if version == "v1"]
    for secret in secrets:
        if not secret.startswith("whsec_"):
            raise Rejected("the secret file does not hold a whsec_ secret")
        key = base64.b64decode(secret.removeprefix("whsec_"))
        mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
        expected = base64.b64encode(mac).decode()
        if any(hmac.compare_digest(expected, value) for value in offered):
            return webhook_id
    raise Rejected("no signature matches the secret")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--secret-file", type=Path, required=True, help="the endpoint's whsec_ secret(s), one a line")
    args = parser.parse_args(argv)
    seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                secrets = [s.strip() for s in args.secret_file.read_text().splitlines() if s.strip()]
                webhook_id = verify(secrets, headers, body)
            except (Rejected, OSError, ValueError) as exc:
                print(f"REJECTED {exc}", flush=True)
                self.send_response(401)
                self.end_headers()
                return
            event = json.loads(body)
            print(f"{'duplicate' if webhook_id in seen else 'verified'} {event.get('type')} "
                  f"{json.dumps(event.get('data'), sort_keys=True)}", flush=True)
            seen.add(webhook_id)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *log_args: object) -> None:
            return

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"listening on http://{args.host}:{server.server_port}/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
