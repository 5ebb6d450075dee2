"""Offline checks of the Kubernetes manifests under deploy/k8s.

No cluster and no kubectl are needed. The project's dev dependencies vendor no
Kubernetes JSON schemas, so the checks here are structural: required fields,
probes, pod security, label selectors, references between objects, and that
every container runs one of the four services. When the optional
`kubernetes-validate` package (which ships the official schemas) is
installed, the last test also validates every object strictly against them;
otherwise it is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = REPO_ROOT / "deploy/k8s"
README = K8S_DIR / "README.md"

# Same table as test_compose.py: service -> in-container port (the dev ports).
APP_SERVICES: dict[str, int] = {
    "gateway": 8000,
    "referral": 8001,
    "assessment": 8002,
    "reporting": 8003,
}
PREFIXES = {name: f"{name.upper()}_" for name in APP_SERVICES}
# Not the project's: Redis for the gateway's rate limits, and its port.
INFRA: dict[str, int] = {"gateway-redis": 6379}
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}
# uvicorn's app argument, e.g. services.referral.app:create_app
_APP_MODULE = re.compile(r"^services\.(?P<name>[a-z_]+)\.app:create_app$")

Doc = dict[str, Any]


# --- loading ------------------------------------------------------------------


@cache
def documents() -> tuple[tuple[str, Doc], ...]:
    """(file, document) for every non-empty YAML document under deploy/k8s."""
    found = []
    paths = sorted([*K8S_DIR.rglob("*.yaml"), *K8S_DIR.rglob("*.yml")])
    assert paths, "no manifests under deploy/k8s"
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                found.append((str(path.relative_to(REPO_ROOT)), doc))
    return tuple(found)


def of_kind(kind: str) -> list[Doc]:
    return [doc for _, doc in documents() if doc.get("kind") == kind]


def by_name(kind: str) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for doc in of_kind(kind)}


def workloads() -> Iterator[tuple[str, Doc]]:
    """(kind/name, pod spec) of every Deployment and Job."""
    for kind in ("Deployment", "Job"):
        for doc in of_kind(kind):
            yield f"{kind}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]


def containers(pod: Doc) -> list[Doc]:
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def label_matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def service_of_job(job: Doc) -> str:
    """The service a migration Job migrates, from `... services.cli migrate <name>`."""
    (container,) = job["spec"]["template"]["spec"]["containers"]
    command = [*container.get("command", []), *container.get("args", [])]
    assert command[-4:-1] == ["-m", "services.cli", "migrate"], (
        f"Job/{job['metadata']['name']} does not run `python -m services.cli migrate <name>`"
    )
    return str(command[-1])


# --- every document -------------------------------------------------------------


def test_every_document_has_api_version_kind_and_name() -> None:
    problems = []
    for path, doc in documents():
        if not isinstance(doc, dict):
            problems.append(f"{path}: a document is not a mapping")
            continue
        for field in ("apiVersion", "kind"):
            if not isinstance(doc.get(field), str) or not doc[field]:
                problems.append(f"{path}: a document lacks {field}")
        name = (doc.get("metadata") or {}).get("name")
        if not isinstance(name, str) or not name:
            problems.append(f"{path}: {doc.get('kind')} lacks metadata.name")
    assert not problems, "\n".join(problems)


def test_object_names_are_unique_per_kind() -> None:
    seen: dict[tuple[str, str], str] = {}
    for path, doc in documents():
        key = (doc["kind"], doc["metadata"]["name"])
        assert key not in seen, f"{key} defined in {seen[key]} and {path}"
        seen[key] = path


def test_namespaced_objects_live_in_the_declared_namespace() -> None:
    namespaces = set(by_name("Namespace"))
    assert len(namespaces) == 1, f"expected one Namespace, found {sorted(namespaces)}"
    for path, doc in documents():
        if doc["kind"] in CLUSTER_SCOPED_KINDS:
            continue
        assert doc["metadata"].get("namespace") in namespaces, (
            f"{path}: {doc['kind']}/{doc['metadata']['name']} is not in {namespaces}"
        )


def test_no_secret_values_in_the_repository() -> None:
    # Secrets are created by the operator (README.md); a manifest would tempt
    # someone to commit real values, or ship `change-me` to production.
    secrets = [
        f"{path}: {doc['metadata']['name']}" for path, doc in documents() if doc["kind"] == "Secret"
    ]
    assert not secrets, f"Secret manifests must not be committed: {secrets}"


# --- the four services ----------------------------------------------------------


def test_one_deployment_service_and_migration_job_per_app_service() -> None:
    assert set(by_name("Deployment")) == set(APP_SERVICES) | set(INFRA)
    assert set(by_name("Service")) == set(APP_SERVICES) | set(INFRA)
    jobs = {service_of_job(job): name for name, job in by_name("Job").items()}
    assert jobs == {name: f"migrate-{name}" for name in APP_SERVICES}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_deployment_runs_its_own_service_module(name: str) -> None:
    (container,) = by_name("Deployment")[name]["spec"]["template"]["spec"]["containers"]
    command = [str(c) for c in [*container.get("command", []), *container.get("args", [])]]
    assert command[:2] == ["uvicorn", "--factory"], f"{name}: {command}"
    modules = [m.group("name") for c in command if (m := _APP_MODULE.match(c))]
    # Asserted against the known four names, not the file system, so the check
    # holds while the service packages are still being written.
    assert modules == [name], f"Deployment/{name} runs {modules}, expected services.{name}"
    port = APP_SERVICES[name]
    assert command[command.index("--port") + 1] == str(port)
    assert [p["containerPort"] for p in container["ports"]] == [port]


def test_every_container_uses_the_project_image() -> None:
    infra = {f"Deployment/{name}" for name in INFRA}
    images = {c["image"] for where, pod in workloads() if where not in infra for c in containers(pod)}
    assert len(images) == 1, f"all services share one image, found {sorted(images)}"
    (image,) = images
    assert ":" in image, f"pin a tag: {image}"
    assert not image.endswith(":latest"), f"pin a tag, not {image}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_module_exists_in_the_repo(name: str) -> None:
    app = REPO_ROOT / "services" / name / "app.py"
    assert app.is_file(), f"Deployment/{name} runs services/{name}/app.py, which is missing"
    assert "def create_app" in app.read_text(encoding="utf-8"), f"{app} has no create_app"


# --- pods: probes, security, resources --------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_deployment_has_readiness_and_liveness_probes(name: str) -> None:
    pod = by_name("Deployment")[name]["spec"]["template"]["spec"]
    for container in pod["containers"]:
        port_names = {p.get("name") for p in container.get("ports", [])}
        port_numbers = {p["containerPort"] for p in container.get("ports", [])}
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
            spec = container.get(probe)
            assert spec, f"{name}/{container['name']} lacks a {probe}"
            get = spec.get("httpGet") or {}
            assert get.get("path") == path, f"{name}: {probe} must probe {path}"
            assert get.get("port") in port_names | port_numbers, f"{name}: {probe} port unknown"


def test_pods_run_as_non_root_with_a_read_only_root() -> None:
    problems = []
    for where, pod in workloads():
        pod_ctx = pod.get("securityContext") or {}
        for container in containers(pod):
            ctx = container.get("securityContext") or {}
            label = f"{where}/{container['name']}"
            if not ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")):
                problems.append(f"{label}: runAsNonRoot is not true")
            if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
                problems.append(f"{label}: runs as uid 0")
            if ctx.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{label}: root filesystem is writable")
            if ctx.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{label}: allowPrivilegeEscalation is not false")
            if "ALL" not in ((ctx.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{label}: capabilities are not all dropped")
    assert not problems, "\n".join(problems)


def test_containers_have_resource_requests_and_limits() -> None:
    problems = []
    for where, pod in workloads():
        for container in containers(pod):
            resources = container.get("resources") or {}
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (resources.get(bound) or {}).get(resource):
                        problems.append(f"{where}/{container['name']}: no {bound}.{resource}")
    assert not problems, "\n".join(problems)


def test_volume_mounts_name_declared_volumes() -> None:
    problems = []
    for where, pod in workloads():
        declared = {v["name"] for v in pod.get("volumes", [])}
        for container in containers(pod):
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in declared:
                    problems.append(f"{where}: mount {mount['name']} has no volume")
        for volume in pod.get("volumes", []):
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and claim not in by_name("PersistentVolumeClaim"):
                problems.append(f"{where}: claim {claim} is not defined")
    assert not problems, "\n".join(problems)


def test_migration_jobs_run_once_and_do_not_restart_in_place() -> None:
    for name, job in by_name("Job").items():
        pod = job["spec"]["template"]["spec"]
        assert pod.get("restartPolicy") in {"Never", "OnFailure"}, f"Job/{name}"
        assert job["spec"].get("backoffLimit") is not None, f"Job/{name}: bound its retries"


# --- selectors and references -----------------------------------------------------


def test_deployment_selectors_match_their_pod_labels() -> None:
    for name, deploy in by_name("Deployment").items():
        selector = deploy["spec"]["selector"]["matchLabels"]
        labels = deploy["spec"]["template"]["metadata"]["labels"]
        assert label_matches(selector, labels), f"Deployment/{name} selects none of its own pods"


def test_service_selectors_match_exactly_one_deployment() -> None:
    deployments = by_name("Deployment")
    job_pods = [job["spec"]["template"]["metadata"].get("labels", {}) for job in of_kind("Job")]
    for name, service in by_name("Service").items():
        selector = service["spec"].get("selector") or {}
        matched = [
            d_name
            for d_name, d in deployments.items()
            if label_matches(selector, d["spec"]["template"]["metadata"]["labels"])
        ]
        assert matched == [name], f"Service/{name} selects Deployments {matched}"
        # A migration pod must never receive the service's traffic.
        assert not any(label_matches(selector, labels) for labels in job_pods), (
            f"Service/{name} also selects migration Job pods"
        )
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        ports = container.get("ports", [])
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            assert target in {p.get("name") for p in ports} | {p["containerPort"] for p in ports}, (
                f"Service/{name} targets port {target}, which the container does not expose"
            )
            assert port["port"] == {**APP_SERVICES, **INFRA}[name], f"Service/{name} must listen on the dev port"


def _env(container: Doc) -> tuple[list[Doc], list[Doc]]:
    return container.get("env", []), container.get("envFrom", [])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_migration_job_sees_the_deployment_settings(name: str) -> None:
    (job,) = [j for j in of_kind("Job") if service_of_job(j) == name]
    (job_container,) = job["spec"]["template"]["spec"]["containers"]
    (app_container,) = by_name("Deployment")[name]["spec"]["template"]["spec"]["containers"]
    assert _env(job_container) == _env(app_container)
    assert job_container["image"] == app_container["image"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_settings_use_the_service_prefix(name: str) -> None:
    (container,) = by_name("Deployment")[name]["spec"]["template"]["spec"]["containers"]
    env, env_from = _env(container)
    prefix = PREFIXES[name]
    stray = [e["name"] for e in env if not e["name"].startswith(prefix)]
    assert not stray, f"{name} reads {prefix}* settings only; stray: {stray}"
    for source in env_from:
        assert source.get("prefix") == prefix, f"{name}: envFrom without the {prefix} prefix"
    names = {e["name"] for e in env}
    # WEBHOOK_SECRET everywhere: ServiceSettings refuses the placeholder in prod.
    assert {prefix + "DATABASE_URL", prefix + "WEBHOOK_SECRET"} <= names
    if name == "gateway":
        assert {f"{prefix}{s}_URL" for s in ("REFERRAL", "ASSESSMENT", "REPORTING")} <= names
        assert {prefix + "SIGNING_KEY_FILE", prefix + "RATE_LIMIT_STORAGE"} <= names
    else:
        assert prefix + "OUTBOX_SUBSCRIBERS" in names


def test_config_maps_referenced_exist() -> None:
    config_maps = set(by_name("ConfigMap"))
    for where, pod in workloads():
        for container in containers(pod):
            env, env_from = _env(container)
            refs = [s["configMapRef"]["name"] for s in env_from if "configMapRef" in s]
            refs += [
                e["valueFrom"]["configMapKeyRef"]["name"]
                for e in env
                if "configMapKeyRef" in (e.get("valueFrom") or {})
            ]
            missing = set(refs) - config_maps
            assert not missing, f"{where} uses undefined ConfigMaps {sorted(missing)}"


def test_every_secret_used_is_documented_in_the_readme() -> None:
    # Secrets are created by hand from README.md, so the README must name every
    # Secret and every key the manifests read, or the pods will not start.
    readme = README.read_text(encoding="utf-8")
    problems = []
    for where, pod in workloads():
        for volume in pod.get("volumes", []):
            secret = (volume.get("secret") or {}).get("secretName")
            if secret and f"create secret generic {secret}" not in readme:
                problems.append(f"{where}: Secret {secret} is not created in README.md")
        for container in containers(pod):
            for entry in container.get("env", []):
                ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
                if not ref:
                    continue
                if f"create secret generic {ref['name']}" not in readme:
                    problems.append(f"{where}: Secret {ref['name']} is not created in README.md")
                if f"--from-literal={ref['key']}=" not in readme:
                    problems.append(f"{where}: Secret key {ref['key']} is not in README.md")
    assert not problems, "\n".join(problems)


def test_in_cluster_urls_name_existing_services_and_ports() -> None:
    services = by_name("Service")
    values = [
        str(e.get("value", ""))
        for _, pod in workloads()
        for c in containers(pod)
        for e in c.get("env", [])
    ]
    values += [str(v) for cm in of_kind("ConfigMap") for v in (cm.get("data") or {}).values()]
    urls = [u for v in values for u in re.findall(r"https?://[^\s\"',\]]+", v)]
    assert urls, "found no in-cluster URLs to check"
    for url in urls:
        match = re.match(r"https?://(?P<host>[^/:]+):(?P<port>\d+)", url)
        assert match, f"{url}: name the port explicitly"
        host, port = match["host"].split(".")[0], int(match["port"])
        assert host in services, f"{url}: no Service {host}"
        assert port in {p["port"] for p in services[host]["spec"]["ports"]}, f"{url}: wrong port"


def test_readme_gives_the_apply_order_of_every_file() -> None:
    readme = README.read_text(encoding="utf-8")
    for path, _ in documents():
        assert path in readme, f"README.md never says when to apply {path}"


# --- more than one replica: scaling, disruption, shutdown, keys, rate limits ------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_service_has_an_autoscaler_of_two_replicas_at_least(name: str) -> None:
    (hpa,) = [h for h in of_kind("HorizontalPodAutoscaler")
              if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["metrics"], f"HPA/{hpa['metadata']['name']} scales on nothing"
    # The autoscaler owns the count: a replicas field would reset it on every apply.
    assert "replicas" not in by_name("Deployment")[name]["spec"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_service_has_a_disruption_budget_that_still_lets_nodes_drain(name: str) -> None:
    pod_labels = by_name("Deployment")[name]["spec"]["template"]["metadata"]["labels"]
    budgets = [b for b in of_kind("PodDisruptionBudget")
               if label_matches(b["spec"]["selector"]["matchLabels"], pod_labels)]
    assert len(budgets) == 1, f"Deployment/{name} is covered by {len(budgets)} PodDisruptionBudgets"
    (budget,) = budgets
    assert budget["apiVersion"] == "policy/v1"
    (hpa,) = [h for h in of_kind("HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == name]
    # At least one pod stays up, and one may always go (or a drain would hang).
    assert 1 <= budget["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


def test_the_rate_limit_redis_is_one_pod_and_not_autoscaled() -> None:
    (redis,) = [by_name("Deployment")[name] for name in INFRA]
    assert redis["spec"]["replicas"] == 1  # the counts must live in one place
    assert not [h for h in of_kind("HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] in INFRA]
    (container,) = redis["spec"]["template"]["spec"]["containers"]
    assert ":" in container["image"]
    assert not container["image"].endswith(":latest")
    assert container.get("readinessProbe")
    assert container.get("livenessProbe")
    command = container["command"]
    # Counters only: nothing written to disk.
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"


def test_every_pod_has_an_empty_dir_for_tmp() -> None:
    for where, pod in workloads():
        empty = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for container in containers(pod):
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            tmp = mounts.get("/tmp")  # noqa: S108 - a path inside the pod
            assert tmp in empty, f"{where}/{container['name']}: /tmp is not an emptyDir"


def _env_value(container: Doc, name: str) -> str:
    (value,) = [e["value"] for e in container.get("env", []) if e["name"] == name]
    return str(value)


def test_the_gateway_signs_with_the_mounted_secret_in_production() -> None:
    pod = by_name("Deployment")["gateway"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert by_name("ConfigMap")["neglect-config"]["data"]["ENVIRONMENT"] == "prod"
    key_path = _env_value(container, "GATEWAY_SIGNING_KEY_FILE")
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == key_path]
    assert mount.get("readOnly") is True
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == "gateway-signing-keys"


def test_the_gateway_counts_rate_limits_in_the_cluster_redis() -> None:
    (container,) = by_name("Deployment")["gateway"]["spec"]["template"]["spec"]["containers"]
    match = re.fullmatch(r"redis://(?P<host>[a-z0-9-]+):(?P<port>\d+)/\d+",
                         _env_value(container, "GATEWAY_RATE_LIMIT_STORAGE"))
    assert match, "GATEWAY_RATE_LIMIT_STORAGE must be a redis:// URL with host and port"
    service = by_name("Service")[match["host"]]
    assert int(match["port"]) in {p["port"] for p in service["spec"]["ports"]}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_shutdown_fits_in_the_grace_period(name: str) -> None:
    """preStop sleep (endpoints drop the pod) + uvicorn's wait for requests in flight + the
    relay's 5 s to finish a send must end before Kubernetes sends SIGKILL."""
    pod = by_name("Deployment")[name]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    sleep = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    command = container["command"]
    graceful = int(command[command.index("--timeout-graceful-shutdown") + 1])
    assert sleep + graceful + 5 <= pod["terminationGracePeriodSeconds"]


# --- network policies -------------------------------------------------------------

DNS_PEER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}


def pods() -> dict[str, dict[str, str]]:
    """Pod labels of every Deployment and Job, by the name they carry."""
    found = {}
    for kind in ("Deployment", "Job"):
        for doc in of_kind(kind):
            labels = doc["spec"]["template"]["metadata"]["labels"]
            found[labels["app.kubernetes.io/name"]] = labels
    return found


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels") or {}
    assert not selector.get("matchExpressions"), "keep selectors to matchLabels"
    return all(labels.get(k) == v for k, v in wanted.items())


def _policies(labels: dict[str, str], direction: str) -> list[Doc]:
    return [p for p in of_kind("NetworkPolicy")
            if direction in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], labels)]


def _port_ok(rule: Doc, port: int) -> bool:
    return not rule.get("ports") or any(p.get("port") == port for p in rule["ports"])


def _peer_is_pod(peer: Doc, labels: dict[str, str]) -> bool:
    return set(peer) == {"podSelector"} and _selects(peer["podSelector"], labels)


def allowed(src: str, dst: str, port: int) -> bool:
    """Both ends' policies let ``src`` reach pod ``dst`` on ``port`` (same namespace)."""
    labels = pods()
    egress = any(
        _port_ok(rule, port) and (not rule.get("to") or any(_peer_is_pod(p, labels[dst]) for p in rule["to"]))
        for policy in _policies(labels[src], "Egress") for rule in policy["spec"].get("egress", [])
    )
    ingress = any(
        _port_ok(rule, port) and (not rule.get("from") or any(_peer_is_pod(p, labels[src]) for p in rule["from"]))
        for policy in _policies(labels[dst], "Ingress") for rule in policy["spec"].get("ingress", [])
    )
    return egress and ingress


def reachable_addresses(src: str) -> set[tuple[str, int]]:
    """(CIDR, port) outside the cluster that ``src`` may reach."""
    found = set()
    for policy in _policies(pods()[src], "Egress"):
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                if "ipBlock" in peer:
                    found |= {(peer["ipBlock"]["cidr"], p["port"]) for p in rule.get("ports", [])}
    return found


def configured_calls() -> set[tuple[str, str]]:
    """(caller, callee) from the settings: every in-cluster URL a Deployment is given."""
    config = " ".join(str(v) for cm in of_kind("ConfigMap") for v in (cm.get("data") or {}).values())
    calls = set()
    for name, deploy in by_name("Deployment").items():
        (container,) = deploy["spec"]["template"]["spec"]["containers"]
        text = " ".join(str(e.get("value", "")) for e in container.get("env", []))
        if container.get("envFrom"):
            text += " " + config
        for host in re.findall(r"(?:https?|redis)://([a-z0-9-]+):\d+", text):
            if host != name:  # the gateway's own JWKS URL: it trusts its own keys without a fetch
                calls.add((name, host))
    return calls


def test_everything_is_denied_unless_allowed() -> None:
    deny = by_name("NetworkPolicy")["default-deny"]["spec"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny
    assert "egress" not in deny
    for name, labels in pods().items():
        assert _policies(labels, "Ingress"), f"{name} escapes the default deny"
        assert _policies(labels, "Egress"), f"{name} escapes the default deny"


def test_every_pod_may_reach_the_cluster_dns_and_nothing_else_outside_but_its_database() -> None:
    for name, labels in pods().items():
        peers = [peer for policy in _policies(labels, "Egress") for rule in policy["spec"].get("egress", [])
                 for peer in rule.get("to", [{}])]
        assert DNS_PEER in peers, f"{name} cannot resolve names"
        for peer in peers:
            assert peer == DNS_PEER or set(peer) == {"podSelector"} or set(peer) == {"ipBlock"}, (
                f"{name}: egress to {peer}")
            if "ipBlock" in peer:
                assert peer["ipBlock"]["cidr"].endswith("/32"), f"{name}: a database is one address"


def test_the_network_graph_is_exactly_what_the_settings_call_for() -> None:
    deployments = by_name("Deployment")
    ports = {**APP_SERVICES, **INFRA}
    actual = {(src, dst) for src in pods() for dst in deployments if src != dst and allowed(src, dst, ports[dst])}
    expected = configured_calls()
    assert expected >= {("gateway", s) for s in APP_SERVICES if s != "gateway"}  # gateway -> services
    assert actual == expected, f"allowed but not configured: {sorted(actual - expected)}; " \
                               f"configured but blocked: {sorted(expected - actual)}"
    # From outside the namespace only the gateway may be reached.
    for name, labels in pods().items():
        for policy in _policies(labels, "Ingress"):
            for rule in policy["spec"].get("ingress", []):
                opened = not rule.get("from") or any(set(p) != {"podSelector"} for p in rule["from"])
                assert not opened or name == "gateway", f"{name} is reachable from outside"


def test_each_service_and_its_migration_reach_their_own_database_only() -> None:
    databases = {}
    for name in APP_SERVICES:
        service, job = reachable_addresses(name), reachable_addresses(f"migrate-{name}")
        assert len(service) == 1, f"{name} reaches {sorted(service)}, not one database"
        assert job == service, f"migrate-{name} reaches {sorted(job)}, not {name}'s database"
        databases[name] = service
    assert {port for found in databases.values() for _, port in found} == {5432}
    assert len({cidr for found in databases.values() for cidr, _ in found}) == len(APP_SERVICES), (
        "two services share a database address")
    assert not reachable_addresses("gateway-redis")


# --- optional: the official schemas ---------------------------------------------


def test_manifests_match_kubernetes_schemas() -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate not installed; structural checks only"
    )
    errors = []
    for path, doc in documents():
        try:
            kubernetes_validate.validate(doc, "1.30.0", strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{path}: {doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert not errors, "\n".join(errors)
