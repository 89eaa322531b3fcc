"""Deployment files parse and agree with the code: settings names, ports, topics, metrics, versions.

Docker and Kubernetes cannot run here, so these tests are what keeps the Dockerfile, docker-compose.yml,
deploy/prometheus, deploy/grafana and deploy/k8s honest: every NOF_* variable is a settings field,
every port a service default, every metric and label an object the services register.
"""

from __future__ import annotations

import importlib
import json
import re
from functools import cache
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from pydantic_settings import BaseSettings

from services.ingest.settings import IngestSettings
from services.publisher.settings import PublisherSettings
from services.scoring.settings import ScoringSettings
from shared.settings import CommonSettings, KafkaSettings, RedisSettings
from shared.topics import INPUT_PARTITIONS

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
SERVICES = {"ingest": IngestSettings, "scoring": ScoringSettings, "publisher": PublisherSettings}
METRIC_MODULES = ("services.ingest.metrics", "services.scoring.metrics", "services.publisher.metrics")
#: Labels Prometheus adds to every series (scrape config) or histograms carry.
PROMETHEUS_LABELS = {"job", "instance", "le", "service"}


# -- what the code defines ---------------------------------------------------------------------------
def _names(cls: type[BaseSettings], prefix: str, skip: tuple[str, ...] = ()) -> set[str]:
    return {f"{prefix}{name}".upper() for name in cls.model_fields if name not in skip}


@cache
def settings_env_names() -> frozenset[str]:
    """Every environment variable a NOF process reads, derived from the pydantic settings classes."""
    names = _names(CommonSettings, "NOF_", skip=("kafka", "redis"))
    names |= _names(KafkaSettings, "NOF_KAFKA_") | _names(RedisSettings, "NOF_REDIS_")
    for cls in SERVICES.values():
        names |= _names(cls, cls.model_config["env_prefix"], skip=("common",))
    return frozenset(names)


def default_port(service: str) -> int:
    return SERVICES[service].model_fields["port"].default


@cache
def metric_catalogue() -> dict[str, frozenset[str]]:
    """Exposed sample name -> label names, for every nof_* metric registered by the services' modules."""
    modules = [importlib.import_module(m) for m in METRIC_MODULES]
    labels = {}
    for module in modules:
        for obj in vars(module).values():
            if isinstance(obj, MetricWrapperBase):
                labels[obj.describe()[0].name] = frozenset(obj._labelnames)  # noqa: SLF001 - no public accessor
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",),
                "summary": ("_sum", "_count", ""), "info": ("_info",)}
    catalogue = {}
    for family in REGISTRY.collect():
        if family.name.startswith("nof_"):
            for suffix in suffixes.get(family.type, ("",)):
                extra = {"le"} if suffix == "_bucket" else set()
                catalogue[family.name + suffix] = labels.get(family.name, frozenset()) | extra
    return catalogue


@cache
def emitted_label_values() -> frozenset[str]:
    """String literals the code passes to ``.labels(...)`` or declares in a ``Literal[...]`` (event types)."""
    source = "\n".join(p.read_text() for d in ("services", "shared") for p in (ROOT / d).rglob("*.py"))
    spans = re.findall(r"\.labels\(([^)]*)\)", source) + re.findall(r"Literal\[([^\]]*)\]", source)
    return frozenset(v for span in spans for v in re.findall(r"[\"']([^\"']+)[\"']", span))


# -- the files under test -----------------------------------------------------------------------------
@cache
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


@cache
def alert_rules() -> list[dict]:
    doc = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


@cache
def dashboard() -> dict:
    return json.loads((ROOT / "deploy/grafana/dashboards/nof-live.json").read_text())


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


@cache
def k8s_docs() -> tuple[dict, ...]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") != "Kustomization"]
    return tuple(docs)


def k8s(kind: str, name: str | None = None) -> list[dict]:
    return [d for d in k8s_docs() if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def k8s_containers() -> list[tuple[dict, dict]]:
    """(workload, container) for every Deployment, StatefulSet and Job container."""
    return [(w, c) for kind in ("Deployment", "StatefulSet", "Job") for w in k8s(kind)
            for c in w["spec"]["template"]["spec"]["containers"]]


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "") for ln in lines]


def dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, args in dockerfile():
        if instruction == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    return env


def pom_kafka_version() -> str:
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", (ROOT / "deploy/kafka/pom.xml").read_text())
    assert match, "deploy/kafka/pom.xml declares no kafka.version property"
    return match.group(1)


def console_scripts() -> set[str]:
    import tomllib
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])


# -- PromQL helpers -----------------------------------------------------------------------------------
METRIC = re.compile(r"\b(nof_[a-z0-9_]+)\b")
SELECTOR = re.compile(r"\b(nof_[a-z0-9_]+)\s*\{([^}]*)\}")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def all_exprs() -> list[tuple[str, str]]:
    return [(f"alert {r['alert']}", r["expr"]) for r in alert_rules()] + \
           [(f"dashboard target {i}", e) for i, e in enumerate(dashboard_exprs())]


# == docker-compose.yml ================================================================================
APP_SERVICES = ("ingest", "scoring", "publisher")


def test_compose_declares_the_whole_stack():
    assert set(compose()["services"]) >= {"kafka", "redis", "topics", *APP_SERVICES, "prometheus", "grafana"}


def test_services_start_after_healthy_kafka_and_redis_and_declared_topics():
    for name in APP_SERVICES:
        deps = service(name)["depends_on"]
        assert deps["kafka"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["topics"]["condition"] == "service_completed_successfully", name
    assert service("topics")["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name, svc in compose()["services"].items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in service(dep), f"{name} waits for {dep} to be healthy but it has no healthcheck"


def test_app_services_run_the_project_image_and_its_commands():
    scripts = console_scripts()
    images = {service(n)["image"] for n in (*APP_SERVICES, "topics")}
    assert len(images) == 1, "one image for every service"
    for name in APP_SERVICES:
        svc = service(name)
        assert svc["build"]["dockerfile"] == "Dockerfile" and svc["build"]["context"] == "."
        assert svc["command"] == [f"nof-{name}"] and f"nof-{name}" in scripts
    assert service("topics")["command"] == ["python", "-m", "shared.kafka_admin", "declare"]
    assert service("topics")["restart"] == "no"


def test_compose_environment_names_are_settings_fields():
    valid = settings_env_names()
    for name, svc in compose()["services"].items():
        env = svc.get("environment") or {}
        assert isinstance(env, dict), f"{name}: write environment as a mapping"
        unknown = {k for k in env if k.startswith("NOF_")} - valid
        assert not unknown, f"{name} sets variables no settings class reads: {sorted(unknown)}"


def test_compose_ports_are_the_service_defaults_on_loopback():
    for name in APP_SERVICES:
        port = default_port(name)
        svc = service(name)
        assert svc["ports"] == [f"127.0.0.1:{port}:{port}"], name
        assert str(svc["environment"][f"NOF_{name.upper()}_PORT"]) == str(port)
        assert f"127.0.0.1:{port}/healthz" in " ".join(svc["healthcheck"]["test"])
    for name, svc in compose()["services"].items():
        for mapping in svc.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), f"{name} publishes {mapping} beyond this machine"


def test_compose_points_every_service_at_the_containers_kafka_and_redis():
    kafka_env = service("kafka")["environment"]
    advertised = kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    for name in (*APP_SERVICES, "topics"):
        env = service(name)["environment"]
        assert f"PLAINTEXT://{env['NOF_KAFKA_BOOTSTRAP_SERVERS']}" in advertised.split(","), name
        assert env["NOF_REDIS_URL"].startswith("redis://redis:6379/"), name
        assert env["NOF_ENVIRONMENT"] == "development", name


def test_compose_kafka_is_the_pom_version_without_auto_created_topics():
    kafka = service("kafka")
    assert kafka["image"] == f"apache/kafka:{pom_kafka_version()}"
    env = kafka["environment"]
    assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]).lower() == "false"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "kafka-data" in compose()["volumes"]


def test_compose_keeps_state_and_development_keys_in_volumes_and_no_secrets():
    for name in ("ingest", "publisher"):
        local_dir = service(name)["environment"]["NOF_LOCAL_DIR"]
        assert f"nof-local:{local_dir}" in service(name)["volumes"]
    scoring = service("scoring")
    data_dir = scoring["environment"]["NOF_SCORING_DATA_DIR"]
    assert data_dir == dockerfile_env()["NOF_SCORING_DATA_DIR"]
    assert f"scoring-state:{data_dir}" in scoring["volumes"]
    for name, svc in compose()["services"].items():
        env = svc.get("environment") or {}
        assert "NOF_INGEST_API_KEYS" not in env and "NOF_PUBLISHER_ADMIN_TOKEN_SHA256" not in env, name
    text = (ROOT / "docker-compose.yml").read_text()
    assert "cat /data/local/ingest-dev-key" in text, "say how to read the development ingest key"


def test_compose_bind_mounts_exist():
    for name, svc in compose()["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


# == Prometheus ========================================================================================
def test_prometheus_scrapes_each_service_on_its_compose_address():
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    for name in APP_SERVICES:
        job = jobs[f"nof-{name}"]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        targets = [t for sc in job["static_configs"] for t in sc["targets"]]
        assert targets == [f"{name}:{default_port(name)}"]
    for rule_file in config["rule_files"]:
        assert (ROOT / "deploy/prometheus" / rule_file).is_file()
    mounts = service("prometheus")["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts


def test_every_alert_has_a_duration_severity_and_runbook():
    readme = (K8S / "README.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", readme, flags=re.M)}
    names = [r["alert"] for r in alert_rules()]
    assert len(names) == len(set(names))
    for rule in alert_rules():
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        notes = rule["annotations"]
        assert notes["summary"] and notes["description"], rule["alert"]
        path, _, anchor = notes["runbook_url"].partition("#")
        assert path == "deploy/k8s/README.md" and anchor in anchors, rule["alert"]


@pytest.mark.parametrize("metric, condition", [
    ("nof_scoring_applied_lag", ">"),
    ("nof_scoring_dead_letters_total", "> 0"),
    ("nof_ingest_inputs_total", 'outcome="rejected"'),
    ("nof_publisher_deliveries_total", "dead_lettered"),
    ("nof_scoring_change_events_total", 'type="segment.changed"'),
    ("nof_scoring_processing_latency_seconds_bucket", "> 1"),
])
def test_the_required_alerts_exist(metric, condition):
    assert any(metric in r["expr"] and condition in r["expr"] for r in alert_rules()), metric


def test_a_service_down_alert_covers_every_job():
    rule = next(r for r in alert_rules() if r["expr"].startswith("up{"))
    assert 'job=~"nof-.*"' in rule["expr"] and rule["labels"]["severity"] == "critical"


def test_p99_latency_alert_uses_the_histogram():
    rule = next(r for r in alert_rules() if "nof_scoring_processing_latency_seconds_bucket" in r["expr"])
    assert "histogram_quantile(0.99" in rule["expr"]


# == metric names and labels, alerts and dashboard alike ================================================
@pytest.mark.parametrize("where, expr", all_exprs())
def test_queries_use_metrics_the_services_register(where, expr):
    catalogue = metric_catalogue()
    unknown = {m for m in METRIC.findall(expr) if m not in catalogue}
    assert not unknown, f"{where} uses metrics no service registers: {sorted(unknown)}"


@pytest.mark.parametrize("where, expr", all_exprs())
def test_queries_use_real_labels_and_values(where, expr):
    catalogue = metric_catalogue()
    used = {m: catalogue.get(m, frozenset()) for m in METRIC.findall(expr)}
    for metric, body in SELECTOR.findall(expr):
        for label, op, value in MATCHER.findall(body):
            assert label in used[metric] | PROMETHEUS_LABELS, f"{where}: {metric} has no label {label}"
            if op in ("=", "=~") and label not in PROMETHEUS_LABELS:
                for alternative in value.split("|") if op == "=~" else [value]:
                    assert alternative in emitted_label_values(), \
                        f"{where}: no code emits {label}={alternative!r} on {metric}"
    known = set().union(*used.values()) | PROMETHEUS_LABELS
    for group in GROUPING.findall(expr):
        for label in (g.strip() for g in group.split(",") if g.strip()):
            assert label in known, f"{where}: groups by {label}, which none of {sorted(used)} has"


def test_catalogue_sees_each_services_metrics():
    prefixes = {name.split("_")[1] for name in metric_catalogue()}
    assert prefixes >= {"ingest", "scoring", "publisher"}


# == Grafana ===========================================================================================
def test_dashboard_is_a_provisionable_grafana_dashboard():
    d = dashboard()
    assert d["schemaVersion"] >= 39 and d["uid"] and d["title"]
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    for panel in d["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"]), panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == uid, panel["title"]
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == uid and target["expr"], panel["title"]


@pytest.mark.parametrize("metric", [
    "nof_ingest_inputs_total", "nof_ingest_produce_latency_seconds_bucket", "nof_scoring_apply_seconds_bucket",
    "nof_scoring_processing_latency_seconds_bucket", "nof_scoring_applied_lag", "nof_scoring_dead_letters_total",
    "nof_scoring_league_version", "nof_scoring_change_events_total", "nof_publisher_deliveries_total",
    "nof_publisher_delivery_latency_seconds_bucket", "nof_publisher_sse_clients", "nof_publisher_dead_letter_size",
])
def test_dashboard_charts_each_required_metric(metric):
    assert any(metric in e for e in dashboard_exprs()), metric


def test_grafana_provisioning_matches_the_compose_mounts():
    providers = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/dashboards.yml").read_text())
    path = providers["providers"][0]["options"]["path"]
    mounts = service("grafana")["volumes"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts


# == Dockerfile and .dockerignore =======================================================================
def test_dockerfile_builds_python_311_slim_from_the_lock_as_a_non_root_user():
    instructions = dockerfile()
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for i, a in instructions if i == "ARG" and "=" in a}
    stages = {a.split()[-1]: a.split()[0] for i, a in instructions if i == "FROM"}
    froms = [f.replace("${PYTHON_IMAGE}", args.get("PYTHON_IMAGE", "")) for name, f in stages.items() if name != "dashboard"]
    assert froms and all(f == "python:3.11-slim" for f in froms)
    # The one other stage only builds the dashboard's front-end assets, from its package-lock.json.
    assert stages["dashboard"].replace("${NODE_IMAGE}", args.get("NODE_IMAGE", "")) == "node:20-slim"
    assert any(i == "RUN" and "npm ci" in a for i, a in instructions)
    installs = [a for i, a in instructions if i == "RUN" and "pip install" in a]
    assert installs and all("-c requirements.lock" in a for a in installs)
    users = [a for i, a in instructions if i == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_env_is_settings_and_holds_no_secrets():
    env = dockerfile_env()
    nof = {k for k in env if k.startswith("NOF_")}
    assert nof <= settings_env_names(), sorted(nof - settings_env_names())
    assert not [k for k in env if re.search(r"KEY|TOKEN|SECRET|PASSWORD", k)]
    for name in APP_SERVICES:
        assert env[f"NOF_{name.upper()}_HOST"] == "0.0.0.0", "containers must listen beyond loopback"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: the last pattern matching the path or one of its parents wins."""
    def regex(pattern: str) -> re.Pattern[str]:
        out = re.escape(pattern.strip("/")).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        return re.compile(out.replace(r"\*", "[^/]*").replace(r"\?", "[^/]") + "$")

    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        if any(regex(pattern.lstrip("!")).match(c) for c in candidates):
            ignored = not negate
    return ignored


def test_dockerignore_sends_only_what_the_dockerfile_copies():
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
                if ln.strip() and not ln.startswith("#")]
    copied = [src for i, a in dockerfile() if i == "COPY" and "--from" not in a for src in a.split()[:-1]]
    assert "requirements.lock" in copied and "pyproject.toml" in copied
    for src in copied:
        assert (ROOT / src).exists(), src
        assert not _ignored(src, patterns), f"{src} is copied but excluded from the build context"
    for private in (".local/ingest-dev-key", ".venv/bin/python", ".git/config", "tests/conftest.py",
                    "shared/__pycache__/settings.cpython-311.pyc"):
        assert _ignored(private, patterns), private
    assert not _ignored("services/publisher/static/index.html", patterns)


# == Kubernetes ========================================================================================
def test_k8s_manifests_parse_and_kustomization_lists_them():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    resources = kustomization["resources"]
    for resource in resources:
        assert (K8S / resource).is_file(), resource
    # A placeholder Secret must never overwrite the real one; the ServiceMonitor needs the operator's CRDs.
    assert "secret.example.yaml" not in resources and "servicemonitor.yaml" not in resources
    assert kustomization["namespace"] == k8s("Namespace")[0]["metadata"]["name"]
    assert kustomization["images"][0]["name"] == "nof-live"
    for doc in k8s_docs():
        assert doc.get("apiVersion") and doc.get("kind") and doc["metadata"].get("name"), doc


def test_k8s_configmap_and_secret_names_are_settings_fields():
    valid = settings_env_names()
    config = k8s("ConfigMap", "nof-config")[0]["data"]
    secret = k8s("Secret", "nof-secrets")[0]["stringData"]
    assert not set(config) - valid, sorted(set(config) - valid)
    assert not set(secret) - valid, sorted(set(secret) - valid)
    assert config["NOF_ENVIRONMENT"] == "production"
    assert {"NOF_INGEST_API_KEYS", "NOF_PUBLISHER_ADMIN_TOKEN_SHA256"} <= set(secret)
    assert not {"NOF_INGEST_API_KEYS", "NOF_PUBLISHER_ADMIN_TOKEN_SHA256"} & set(config)
    assert "127.0.0.1" not in config["NOF_KAFKA_BOOTSTRAP_SERVERS"]
    assert config["NOF_SCORING_DATA_DIR"] == dockerfile_env()["NOF_SCORING_DATA_DIR"]
    for name in APP_SERVICES:
        assert config[f"NOF_{name.upper()}_PORT"] == str(default_port(name))


def test_k8s_containers_run_console_scripts_with_the_shared_configuration():
    scripts = console_scripts()
    for workload, container in k8s_containers():
        command = container["command"]
        assert command[0] in scripts or command in (["python", "-m", "shared.kafka_admin", "declare"],
                                                    ["python", "-m", "shared.kafka_acls", "apply"]), command
        refs = [next(iter(ref.values()))["name"] for ref in container["envFrom"]]
        assert refs[0] == "nof-config", workload["metadata"]["name"]
        assert not [e for e in container.get("env", []) if e["name"] not in settings_env_names()]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert workload["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        assert container["resources"]["requests"]["memory"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_k8s_service_ports_probes_and_selectors(name):
    kind = "StatefulSet" if name == "scoring" else "Deployment"
    workload = k8s(kind, f"nof-{name}")[0]
    pod = workload["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (container,) = pod["spec"]["containers"]
    assert container["command"] == [f"nof-{name}"]
    assert container["ports"] == [{"name": "http", "containerPort": default_port(name)}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert "livenessProbe" in container
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(default_port(name))
    svc = k8s("Service", f"nof-{name}")[0]
    assert svc["spec"]["selector"].items() <= labels.items()
    assert svc["spec"]["ports"][0]["port"] == default_port(name) and svc["spec"]["ports"][0]["targetPort"] == "http"
    pdbs = [p for p in k8s("PodDisruptionBudget") if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
    assert len(pdbs) == 1, name


def test_k8s_scoring_is_a_stateful_set_with_its_state_on_a_volume():
    scoring = k8s("StatefulSet", "nof-scoring")[0]["spec"]
    assert scoring["serviceName"] == "nof-scoring"
    assert k8s("Service", "nof-scoring")[0]["spec"]["clusterIP"] == "None"
    assert 1 <= scoring["replicas"] <= INPUT_PARTITIONS, "workers beyond the input partitions idle"
    claim = scoring["volumeClaimTemplates"][0]["metadata"]["name"]
    mounts = {m["name"]: m["mountPath"] for m in scoring["template"]["spec"]["containers"][0]["volumeMounts"]}
    data_dir = k8s("ConfigMap", "nof-config")[0]["data"]["NOF_SCORING_DATA_DIR"]
    assert mounts[claim] == data_dir
    assert scoring["template"]["spec"]["securityContext"]["fsGroup"] == 10001
    assert not [h for h in k8s("HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == "nof-scoring"]


def test_k8s_autoscales_the_stateless_services():
    targets = {h["spec"]["scaleTargetRef"]["name"]: h for h in k8s("HorizontalPodAutoscaler")}
    assert set(targets) == {"nof-ingest", "nof-publisher"}
    for name, hpa in targets.items():
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment" and k8s("Deployment", name)
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        requests = k8s("Deployment", name)[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
        assert "cpu" in requests, "CPU utilisation needs a CPU request"


def test_k8s_topics_job_declares_before_the_services():
    (job,) = k8s("Job", "nof-topics")
    declare, acls = job["spec"]["template"]["spec"]["containers"]
    assert declare["command"] == ["python", "-m", "shared.kafka_admin", "declare"]
    assert acls["command"] == ["python", "-m", "shared.kafka_acls", "apply"]
    for container in (declare, acls):  # topics and ACLs are the admin principal's job, no service's
        assert {e["name"]: e["value"] for e in container["env"]}["NOF_KAFKA_SASL_USERNAME"] == "admin"
    assert job["spec"]["template"]["spec"]["restartPolicy"] in {"OnFailure", "Never"}


def test_k8s_services_run_as_their_own_kafka_principals_over_sasl_ssl():
    config = k8s("ConfigMap", "nof-config")[0]["data"]
    assert config["NOF_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert (config["NOF_KAFKA_REPLICATION_FACTOR"], config["NOF_KAFKA_MIN_INSYNC_REPLICAS"]) == ("3", "2")
    principals = {}
    for workload, container in k8s_containers():
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        principals[container["name"]] = env.get("NOF_KAFKA_SASL_USERNAME")
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        assert config["NOF_KAFKA_SASL_PASSWORD_FILE"].rsplit("/", 1)[0] in mounts, workload["metadata"]["name"]
    assert {k: principals[k] for k in ("ingest", "scoring", "publisher")} == {
        "ingest": "ingest", "scoring": "scoring", "publisher": "publisher"}


def test_k8s_images_are_the_one_project_image():
    assert {c["image"] for _, c in k8s_containers()} == {"nof-live"}
