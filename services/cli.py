"""Command line for operators and developers.

    python -m services.cli migrate [SERVICE ...]   run each service's migrations (default: all)
    python -m services.cli seed-demo               load the demo partnership (safe to repeat)
    python -m services.cli run                     migrate, seed, start all four services
    python -m services.cli import FILE.jsonl       import a partner's history (docs/migration.md)
    python -m services.cli openapi > FILE.json     the gateway's combined OpenAPI document (make client)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from shared.settings import VAR_DIR

SERVICES = ("gateway", "referral", "assessment", "reporting")
DEFAULT_PORTS = {"gateway": 8000, "referral": 8001, "assessment": 8002, "reporting": 8003}
DEMO_CLIENTS_FILE = VAR_DIR / "demo-clients.json"


def port(service: str) -> int:
    return int(os.environ.get(f"{service.upper()}_PORT", DEFAULT_PORTS[service]))


def host() -> str:
    return os.environ.get("NEGLECT_HOST", "127.0.0.1")


def _dev_secret(name: str) -> str:
    """A random development secret kept under var/ (never in the repository)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def dev_environment() -> dict[str, str]:
    """Environment for running the four services on one machine, with SQLite under var/.

    Values already set in the environment win, so any setting can be overridden.
    """
    gateway = f"http://{host()}:{port('gateway')}"
    events = json.dumps([f"http://{host()}:{port('reporting')}/v1/events"])
    env: dict[str, str] = {
        "GATEWAY_REFERRAL_URL": f"http://{host()}:{port('referral')}",
        "GATEWAY_ASSESSMENT_URL": f"http://{host()}:{port('assessment')}",
        "GATEWAY_REPORTING_URL": f"http://{host()}:{port('reporting')}",
        "REFERRAL_OUTBOX_SUBSCRIBERS": events,
        "REFERRAL_ASSESSMENT_URL": f"http://{host()}:{port('assessment')}",
        "ASSESSMENT_REFERRAL_URL": f"http://{host()}:{port('referral')}",
        "ASSESSMENT_OUTBOX_SUBSCRIBERS": events,
        # The demo partnership's census and rate settings (invented population; 919 as in the
        # synthetic data); an administrator changes them at PATCH /v1/datasets/configuration.
        "REPORTING_LA_CODE": "919",
        "REPORTING_POPULATION_0_17": "52400",
        "REPORTING_POPULATION_YEAR": "2025",
        # The demo's synthetic journeys are all small numbers: shown to dashboard readers as they
        # are, so make run's dashboard has something to chart. Real partnerships keep the default
        # (reporting:read sees 1-5 suppressed as "c"); an administrator can change it per scope.
        "REPORTING_SUPPRESSION": json.dumps({"reporting:read": False, "reporting:export": False}),
        # Partner webhooks to a receiver on this machine (http, localhost): development only.
        "REFERRAL_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        # The dashboard's development login (/dashboard/): demo users, no password; never in production.
        "GATEWAY_DEV_LOGIN_USERS": json.dumps([{"id": "analyst", "name": "Demo partnership analyst"},
                                               {"id": "manager", "name": "Demo safeguarding manager"}]),
    }
    secret = _dev_secret("webhook-secret")
    for service in SERVICES:
        prefix = service.upper() + "_"
        env[prefix + "TOKEN_ISSUER"] = gateway
        env[prefix + "JWKS_URL"] = f"{gateway}/.well-known/jwks.json"
        env[prefix + "WEBHOOK_SECRET"] = secret
    return {k: os.environ.get(k, v) for k, v in env.items()}


def use_dev_environment() -> None:
    """For `run` and `seed-demo` on one machine: fill in what the environment leaves unset."""
    os.environ.update({k: v for k, v in dev_environment().items() if k not in os.environ})


def settings_for(service: str) -> Any:
    if service == "gateway":
        from services.gateway.settings import GatewaySettings

        return GatewaySettings()
    if service == "referral":
        from services.referral.settings import ReferralSettings

        return ReferralSettings()
    if service == "assessment":
        from services.assessment.settings import AssessmentSettings

        return AssessmentSettings()
    from services.reporting.settings import ReportingSettings

    return ReportingSettings()


def migrate(services: list[str]) -> None:
    from shared.migrate import upgrade

    for service in services:
        url = settings_for(service).effective_database_url
        if url.startswith("sqlite") and ":///" in url:
            # Only the embedded default writes under var/; containers give a database URL.
            Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        upgrade(service, url)
        print(f"migrated {service}")  # noqa: T201


def run() -> None:
    from honcho.manager import Manager

    use_dev_environment()
    migrate(list(SERVICES))
    from services.demo import seed_demo

    asyncio.run(seed_demo(settings_for))
    env = dict(os.environ)
    manager = Manager()
    for service in SERVICES:
        cmd = (f"{sys.executable} -m uvicorn --factory services.{service}.app:create_app "
               f"--host {host()} --port {port(service)} --no-access-log")
        manager.add_process(service, cmd, env=env, cwd=str(Path(__file__).resolve().parent.parent))
    _print_welcome()
    manager.loop()
    sys.exit(manager.returncode)


def _print_welcome() -> None:
    base = f"http://{host()}:{port('gateway')}"
    lines = [f"\nNeglect backbone is starting. API docs: {base}/docs (offline), {base}/redoc"]
    lines.append(f"Partnership dashboard: {base}/dashboard/ (development login: pick a demo user)")
    if DEMO_CLIENTS_FILE.exists():
        clients = json.loads(DEMO_CLIENTS_FILE.read_text())
        lines += [
            f"Demo clients ({', '.join(c['client_id'] for c in clients)}): {_shown(DEMO_CLIENTS_FILE)}",
            'A first call, copy-paste safe: README.md, "A first call"; then docs/integrators.md.',
        ]
    print("\n".join(lines) + "\nCtrl-C stops everything.\n", flush=True)  # noqa: T201


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def import_command(args: argparse.Namespace) -> int:
    """Exit status 0 when every line is imported (now or before), 1 when any failed or was skipped."""
    from services.importer.api import in_process, through_gateway
    from services.importer.operations import local_operations
    from services.importer.runner import import_file, journal_path

    if args.operations:
        ops = local_operations()
        for name in sorted(n for n in ops if "." in n):
            op = ops[name]
            how = "Idempotency-Key" if op.idempotent else ""
            how += (" + " if how else "") + "If-Match" if op.etag_path else ""
            print(f"{name:45} {op.method:5} {op.path}  {how}".rstrip())  # noqa: T201
        return 0
    if not args.file:
        raise SystemExit("name the file to import (or --operations)")
    source = Path(args.file)
    journal = Path(args.journal) if args.journal else journal_path(source, VAR_DIR)
    errors = Path(args.errors) if args.errors else journal.with_suffix(".errors.jsonl")

    async def go() -> int:
        if args.gateway:
            if not args.clients:
                raise SystemExit("--gateway needs --clients FILE (a JSON list of client_id and client_secret)")
            api_context: Any = through_gateway(args.gateway, Path(args.clients))
        else:
            use_dev_environment()
            # The services' access logs would bury the progress bar; LOG_LEVEL still wins when set.
            for service in ("REFERRAL", "ASSESSMENT"):
                os.environ.setdefault(f"{service}_LOG_LEVEL", "WARNING")
            api_context = in_process(settings_for)
        async with api_context as api:
            outcome = await import_file(api, local_operations(), source, journal, errors, limit=args.limit,
                                        retry_interrupted=args.retry_interrupted, progress=not args.no_progress)
        print(f"{source.name}: {outcome.imported} imported, {outcome.already_done} already imported, "  # noqa: T201
              f"{outcome.failed} failed, {outcome.skipped} skipped (depend on a line not imported).")
        print(f"journal: {_shown(journal)}")  # noqa: T201
        if outcome.errors:
            print(f"errors (line, ref, problem): {_shown(errors)}")  # noqa: T201
        return 0 if outcome.ok else 1

    if not source.is_file():
        raise SystemExit(f"no such file: {source}")
    return asyncio.run(go())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("migrate", help="run migrations")
    m.add_argument("services", nargs="*", metavar="SERVICE", help=f"any of {', '.join(SERVICES)} (default: all)")
    sub.add_parser("seed-demo", help="load demo data")
    sub.add_parser("run", help="migrate, seed and start everything")
    i = sub.add_parser("import", help="import a JSON Lines file of records through the API (docs/migration.md)")
    i.add_argument("file", metavar="FILE.jsonl", nargs="?")
    i.add_argument("--operations", action="store_true", help="list the operations a line may name, and stop")
    i.add_argument("--limit", type=int, metavar="N", help="read only the first N lines (a trial, or a step)")
    i.add_argument("--journal", metavar="PATH", help="progress journal (default: var/import/<file>-<hash>.sqlite)")
    i.add_argument("--errors", metavar="PATH", help="failed lines of this run (default: beside the journal)")
    i.add_argument("--gateway", metavar="URL", help="send through a running gateway instead of in-process")
    i.add_argument("--clients", metavar="FILE", help="with --gateway: JSON list of client_id and client_secret")
    i.add_argument("--retry-interrupted", action="store_true",
                   help="resend lines the last run left half-sent whose operation has no Idempotency-Key or If-Match")
    i.add_argument("--no-progress", action="store_true", help="no progress bar")
    o = sub.add_parser("openapi", help="print the combined OpenAPI document the gateway serves (no service started)")
    o.add_argument("--public-url", metavar="URL", help="the gateway's public address (default: GATEWAY_PUBLIC_URL)")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        unknown = sorted(set(args.services) - set(SERVICES))
        if unknown:
            parser.error(f"unknown service(s): {', '.join(unknown)}")
        migrate(args.services or list(SERVICES))
    elif args.command == "seed-demo":
        from services.demo import seed_demo

        use_dev_environment()
        asyncio.run(seed_demo(settings_for))
    elif args.command == "import":
        sys.exit(import_command(args))
    elif args.command == "openapi":
        from services.openapi_export import combined_document

        json.dump(combined_document(args.public_url), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        run()


if __name__ == "__main__":
    main()
