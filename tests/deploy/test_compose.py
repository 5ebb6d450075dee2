"""Offline checks of docker-compose.yml.

Nothing here needs Docker: the file is validated against the Compose
Specification JSON schema that the `check-jsonschema` package vendors, then
checked for the cross-references a schema cannot see (dependencies, URLs
between services, volumes, health checks, migrations).
"""

from __future__ import annotations

import json
import re
import shlex
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"

# The four application services, their in-container ports (the dev ports) and
# their settings prefixes. The same table is asserted in test_k8s.py.
APP_SERVICES: dict[str, int] = {
    "gateway": 8000,
    "referral": 8001,
    "assessment": 8002,
    "reporting": 8003,
}
PREFIXES = {name: f"{name.upper()}_" for name in APP_SERVICES}

Service = dict[str, Any]


# --- loading ------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$\$"  # escaped dollar
    r"|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def interpolate(value: Any) -> Any:
    """Resolve ${VAR:-default}-style interpolation as Compose would with an
    empty environment, so the checks see the file's own defaults and never
    depend on the shell that runs the tests."""
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if not isinstance(value, str):
        return value

    def resolve(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        if op in {":-", "-"}:
            return arg
        if op in {":?", "?"}:
            pytest.fail(f"${{{name}}} is required by docker-compose.yml ({arg or 'no message'})")
        # ${VAR}, $VAR and ${VAR:+alt} are empty when VAR is unset.
        return ""

    return _VARIABLE.sub(resolve, value)


@cache
def raw_compose() -> dict[str, Any]:
    # safe_load resolves the YAML anchors and `<<` merge keys the file uses.
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@cache
def compose() -> dict[str, Any]:
    resolved = interpolate(raw_compose())
    assert isinstance(resolved, dict)
    return resolved


def services() -> dict[str, Service]:
    result = compose().get("services")
    assert isinstance(result, dict), "docker-compose.yml has no services mapping"
    assert result, "docker-compose.yml defines no services"
    return result


def depends_on(service: Service) -> dict[str, dict[str, Any]]:
    """depends_on in either syntax, as {target: {condition: ...}}."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return {name: (spec or {"condition": "service_started"}) for name, spec in deps.items()}


def environment(service: Service) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}
    return {k: "" if v is None else str(v) for k, v in env.items()}


def command(service: Service) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def flag_value(args: list[str], flag: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def container_ports(service: Service) -> set[int]:
    """Ports a service listens on inside the network: `expose` plus the port
    its server command binds."""
    ports = {int(str(p).split("/")[0]) for p in service.get("expose") or []}
    port_arg = flag_value(command(service), "--port")
    if port_arg is not None:
        ports.add(int(port_arg))
    return ports


def healthcheck_command(service: Service) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, list):
        return " ".join(str(t) for t in test)
    return str(test or "")


# --- schema -------------------------------------------------------------------


@cache
def compose_schema() -> dict[str, Any]:
    # check-jsonschema vendors the upstream Compose Specification schema.
    vendor = files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = compose_schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    return [
        f"{error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: e.json_path)
    ]


def test_compose_file_matches_compose_spec_schema() -> None:
    errors = schema_errors(raw_compose())
    assert not errors, "docker-compose.yml breaks the Compose schema:\n" + "\n".join(errors)


def test_compose_file_matches_schema_after_interpolation() -> None:
    # Compose validates again once ${...} defaults are substituted, e.g. a
    # port or a duration that only becomes invalid after interpolation.
    errors = schema_errors(compose())
    assert not errors, "interpolated docker-compose.yml breaks the schema:\n" + "\n".join(errors)


# --- dependencies -------------------------------------------------------------


def test_depends_on_targets_exist() -> None:
    names = set(services())
    missing = [
        f"{name} -> {target}"
        for name, svc in services().items()
        for target in depends_on(svc)
        if target not in names
    ]
    assert not missing, f"depends_on names services that do not exist: {missing}"


def test_depends_on_has_no_cycles() -> None:
    graph = {name: set(depends_on(svc)) for name, svc in services().items()}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        if node in path:
            pytest.fail("depends_on cycle: " + " -> ".join((*path, node)))
        if node in done:
            return
        for nxt in graph.get(node, ()):
            visit(nxt, (*path, node))
        done.add(node)

    for name in graph:
        visit(name, ())


def test_depends_on_conditions_are_satisfiable() -> None:
    # `service_healthy` on a service without a healthcheck, or
    # `service_completed_successfully` on a long-running service, would make
    # `docker compose up` fail or hang.
    problems = []
    for name, svc in services().items():
        for target, spec in depends_on(svc).items():
            target_svc = services().get(target, {})
            condition = spec.get("condition", "service_started")
            if condition == "service_healthy" and not target_svc.get("healthcheck"):
                problems.append(f"{name} waits for {target} to be healthy; it has no healthcheck")
            if condition == "service_completed_successfully" and target_svc.get("restart") not in (
                None,
                "no",
            ):
                problems.append(f"{name} waits for {target} to exit; it restarts")
    assert not problems, "\n".join(problems)


# --- the application services -------------------------------------------------


def test_all_four_app_services_exist() -> None:
    missing = set(APP_SERVICES) - set(services())
    assert not missing, f"app services missing from docker-compose.yml: {sorted(missing)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_runs_its_factory_on_its_port(name: str) -> None:
    args = command(services()[name])
    assert "uvicorn" in args[:2], f"{name} is not started with uvicorn: {args}"
    assert "--factory" in args, f"{name}: create_app is a factory, uvicorn needs --factory"
    assert f"services.{name}.app:create_app" in args, f"{name} runs another module: {args}"
    # Inside its container the service must accept connections from the network.
    assert flag_value(args, "--host") == "0.0.0.0", f"{name} must listen on all interfaces"  # noqa: S104
    assert flag_value(args, "--port") == str(APP_SERVICES[name])
    assert container_ports(services()[name]) == {APP_SERVICES[name]}, (
        f"{name}: `expose` and --port disagree"
    )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_has_readiness_healthcheck(name: str) -> None:
    svc = services()[name]
    assert svc.get("healthcheck"), f"{name} has no healthcheck"
    test = healthcheck_command(svc)
    assert f"127.0.0.1:{APP_SERVICES[name]}/readyz" in test, (
        f"{name}'s healthcheck must probe its own /readyz: {test}"
    )
    # The runtime image is python:3.11-slim: no curl or wget.
    assert "curl" not in test, f"{name}: the slim image has no curl"
    assert "wget" not in test, f"{name}: the slim image has no wget"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_is_built_from_the_shared_dockerfile(name: str) -> None:
    build = services()[name].get("build")
    assert isinstance(build, dict), f"{name} must be built from deploy/docker/Dockerfile"
    context = REPO_ROOT / build.get("context", ".")
    dockerfile = context / build.get("dockerfile", "Dockerfile")
    assert dockerfile.resolve() == (REPO_ROOT / "deploy/docker/Dockerfile").resolve()
    assert dockerfile.is_file(), f"{dockerfile} does not exist"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_runs_migrations_first(name: str) -> None:
    migrate = f"migrate-{name}"
    assert migrate in services(), f"no {migrate} one-shot service"
    job = services()[migrate]
    assert command(job)[-4:] == ["-m", "services.cli", "migrate", name], command(job)
    assert job.get("restart") in (None, "no"), f"{migrate} must run once, not restart"
    assert depends_on(services()[name]).get(migrate, {}).get("condition") == (
        "service_completed_successfully"
    ), f"{name} must wait for {migrate} to exit 0"
    assert depends_on(job).get("postgres", {}).get("condition") == "service_healthy"
    # The migration must see exactly the settings the service will run with.
    assert environment(job) == environment(services()[name])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_settings_use_the_service_prefix(name: str) -> None:
    prefix = PREFIXES[name]
    env = environment(services()[name])
    stray = [key for key in env if not key.startswith(prefix)]
    assert not stray, f"{name} reads {prefix}* settings only; stray variables: {stray}"
    # WEBHOOK_SECRET everywhere: ServiceSettings refuses the placeholder in prod.
    for suffix in (
        "DATABASE_URL",
        "ENVIRONMENT",
        "TOKEN_ISSUER",
        "TOKEN_AUDIENCE",
        "WEBHOOK_SECRET",
    ):
        assert env.get(prefix + suffix), f"{name} lacks {prefix}{suffix}"
    if name == "gateway":
        for suffix in ("KEY_DIR", "REFERRAL_URL", "ASSESSMENT_URL", "REPORTING_URL"):
            assert env.get(prefix + suffix), f"gateway lacks {prefix}{suffix}"
    else:
        for suffix in ("JWKS_URL", "OUTBOX_SUBSCRIBERS"):
            assert env.get(prefix + suffix), f"{name} lacks {prefix}{suffix}"
        subscribers = json.loads(env[prefix + "OUTBOX_SUBSCRIBERS"])
        assert isinstance(subscribers, list), f"{prefix}OUTBOX_SUBSCRIBERS must be a JSON list"


def test_shared_settings_agree_across_services() -> None:
    def values(suffix: str, names: tuple[str, ...]) -> dict[str, str]:
        return {n: environment(services()[n]).get(PREFIXES[n] + suffix, "") for n in names}

    # Tokens the gateway issues must verify everywhere, and events signed by
    # one service must verify in another.
    for suffix in ("TOKEN_ISSUER", "TOKEN_AUDIENCE", "WEBHOOK_SECRET", "ENVIRONMENT"):
        found = values(suffix, tuple(APP_SERVICES))
        assert len(set(found.values())) == 1, f"{suffix} differs between services: {found}"


def test_event_publishers_deliver_to_reporting() -> None:
    for name in ("referral", "assessment"):
        env = environment(services()[name])
        subscribers = json.loads(env[PREFIXES[name] + "OUTBOX_SUBSCRIBERS"])
        assert "http://reporting:8003/v1/events" in subscribers, f"{name} must publish to reporting"


def test_database_urls_point_at_one_database_per_service() -> None:
    databases = {}
    for name in APP_SERVICES:
        url = urlsplit(environment(services()[name])[PREFIXES[name] + "DATABASE_URL"])
        assert url.scheme == "postgresql+asyncpg", f"{name}: the image ships asyncpg only"
        databases[name] = url.path.lstrip("/")
    assert databases == {name: name for name in APP_SERVICES}
    init_sql = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (REPO_ROOT / "deploy/docker/postgres-init").glob("*.sql")
    )
    for name in APP_SERVICES:
        assert re.search(rf"CREATE DATABASE {name}\b", init_sql), (
            f"deploy/docker/postgres-init does not create database {name}"
        )


# --- addresses between services -----------------------------------------------

# Any scheme://[user[:password]@]host:port inside an environment value: covers
# the *_URL settings and the URLs inside the JSON OUTBOX_SUBSCRIBERS lists.
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s\"',\]]+", re.IGNORECASE)


def test_env_urls_name_existing_services_and_ports() -> None:
    problems = []
    checked = 0
    for name, svc in services().items():
        for key, value in environment(svc).items():
            urls = _URL.findall(value)
            if key.endswith("_URL") and not urls:
                problems.append(f"{name}: {key}={value!r} is not a URL")
            for raw in urls:
                url = urlsplit(raw)
                checked += 1
                target = services().get(url.hostname or "")
                if target is None:
                    problems.append(f"{name}: {key} points at {url.hostname!r}, not a service")
                    continue
                if url.port is None:
                    problems.append(f"{name}: {key}={raw} must name the port explicitly")
                elif url.port not in container_ports(target):
                    problems.append(
                        f"{name}: {key}={raw} uses port {url.port}; "
                        f"{url.hostname} listens on {sorted(container_ports(target))}"
                    )
    assert checked, "found no service URLs to check"
    assert not problems, "\n".join(problems)


def test_only_the_gateway_publishes_a_host_port() -> None:
    published = {name for name, svc in services().items() if svc.get("ports")}
    assert published == {"gateway"}, f"services publishing host ports: {sorted(published)}"
    (port,) = services()["gateway"]["ports"]
    host_port, container_port = str(port).rsplit(":", 2)[-2:]
    assert (host_port, container_port) == ("8000", "8000")


# --- volumes ------------------------------------------------------------------


def volume_sources(svc: Service) -> list[tuple[str, str]]:
    """(type, source) for every mount, short or long syntax."""
    result = []
    for vol in svc.get("volumes") or []:
        if isinstance(vol, dict):
            result.append((vol.get("type", "volume"), str(vol.get("source", ""))))
            continue
        source = str(vol).split(":", 1)[0] if ":" in str(vol) else ""
        if not source:
            result.append(("anonymous", ""))
        elif source.startswith((".", "/", "~")):
            result.append(("bind", source))
        else:
            result.append(("volume", source))
    return result


def test_named_volumes_are_declared() -> None:
    declared = set(compose().get("volumes") or {})
    used = {
        (name, source)
        for name, svc in services().items()
        for kind, source in volume_sources(svc)
        if kind == "volume" and source
    }
    undeclared = sorted(f"{name}: {source}" for name, source in used if source not in declared)
    assert not undeclared, f"named volumes used but not declared: {undeclared}"
    unused = declared - {source for _, source in used}
    assert not unused, f"volumes declared but never used: {sorted(unused)}"


def test_bind_mounts_are_repo_relative_and_exist() -> None:
    for name, svc in services().items():
        for kind, source in volume_sources(svc):
            if kind != "bind":
                continue
            assert source.startswith("./"), f"{name}: bind mount {source!r} must be repo-relative"
            assert (REPO_ROOT / source).exists(), f"{name}: {source} does not exist in the repo"


def test_postgres_is_healthchecked_and_persistent() -> None:
    pg = services()["postgres"]
    assert "pg_isready" in healthcheck_command(pg)
    assert any(kind == "volume" for kind, _ in volume_sources(pg)), "postgres data must persist"
    mounts = [str(v) for v in pg.get("volumes") or []]
    assert any("/docker-entrypoint-initdb.d" in m for m in mounts), "init scripts not mounted"
