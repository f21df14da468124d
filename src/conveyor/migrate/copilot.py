"""Map an AWS Copilot service, its environments and its pipeline onto one conveyor.yaml.

conveyor's spec is one application, one deployed thing, so each Copilot service becomes its own
spec. What Copilot kept in several manifests is brought together here: the service manifest
(with its per-environment overrides) gives each environment's `deploy.ecs.create`, the
environment manifests give certificates and networks, and the pipeline manifest gives the
source, the order of the environments, their approvals and their tests.

Copilot's manifest reference (site/content/docs/manifest/ in github.com/aws/copilot-cli,
https://aws.github.io/copilot-cli/docs/manifest/overview/) is where each Copilot default below
comes from. Every key of a manifest that is read is either carried over (`_Reader.use`) or
named in a Note with why and what to write instead: nothing is dropped silently.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError

from conveyor.init.render import placeholder_connection
from conveyor.migrate.manifest import Manifest, Note
from conveyor.migrate.schedule import scheduler_expression
from conveyor.migrate.workspace import Workspace
from conveyor.spec.models import (
    APP_NAME_PATTERN,
    CERTIFICATE_ARN_PATTERN,
    CONNECTION_ARN_PATTERN,
    ENV_NAME_PATTERN,
    FARGATE_MEMORY,
    PRODUCTION_NAMES,
    CreateService,
    Sidecar,
)
from conveyor.spec.refs import is_secret_ref, looks_like_token, name_suggests_secret

WEB = "Load Balanced Web Service"
BACKEND = "Backend Service"
# Copilot's workload types and the deploy.ecs.create kind each becomes.
KINDS = {WEB: "web", BACKEND: "backend", "Worker Service": "worker", "Scheduled Job": "job"}
NO_EQUIVALENT = {
    "Request-Driven Web Service": "an AWS App Runner service: conveyor deploys to ECS Fargate "
    "and Lambda, not App Runner. Write it as a Load Balanced Web Service first (same image, "
    "port and variables) and migrate that",
    "Static Site": "files served from S3 through CloudFront: conveyor deploys containers and "
    "Lambda functions, not static sites. Keep its pipeline, or build the site in build.commands "
    "and publish it from a tests: job of your own",
}

# Copilot's defaults where conveyor's differ: the health check path is "/" and tasks run in
# public subnets (docs/include/http-healthcheck.en.md, docs/include/network.en.md).
COPILOT_HEALTH_CHECK_PATH = "/"
COPILOT_PLACEMENT = "public"
# Copilot's defaults for cpu and memory (docs/include/task-size.en.md) equal conveyor's.
PLACEHOLDER_EMAIL_DOMAIN = "example.com"

# Why a Copilot setting has no place in conveyor.yaml, by its key (the longest that matches).
REASONS: dict[str, str] = {
    "exec": "ECS Exec (a shell in running tasks) is not enabled on the services conveyor "
    "creates; run a one-off task from the task definition instead",
    "network.connect": "Service Connect: only a conveyor backend (kind: backend) is published "
    "in a namespace; a web service reaches one with create.connect.namespace",
    "subscribe.queue.delay": "a delay on every message is not offered: producers can set "
    "DelaySeconds on the messages they send",
    "subscribe.queue.fifo": "FIFO queues are not offered: a worker's queue is a standard queue "
    "(at-least-once delivery, best-effort order)",
    "network.vpc.security_groups": "conveyor gives the tasks one security group of its own (a "
    "web service's admits its load balancer only); allow it in your resources' groups instead",
    "network.vpc.placement": "placement by subnet ids or tags: give the VPC and its subnets with "
    "create.vpc, then placement: public or private",
    "logging": "FireLens log routing: conveyor's containers log to CloudWatch Logs "
    "(retention.log_days); run a log router as one of create.sidecars if you need one",
    "storage": "volumes (EFS, bind mounts, ephemeral storage) are not part of the services "
    "conveyor creates",
    "publish": "SNS topics are not created by conveyor; create them in a stack of your own and "
    "pass their ARNs in create.env",
    "observability": "X-Ray tracing: run the AWS Distro for OpenTelemetry collector as one of "
    "create.sidecars (examples/web-service.yaml)",
    "taskdef_overrides": "CloudFormation overrides of the task definition are not supported",
    "deployment.rolling": "conveyor replaces tasks with a rolling deployment and rolls back "
    "through the ECS circuit breaker; 'recreate' (stop all, then start) is not offered",
    "deployment.rollback_alarms": "conveyor creates the service's alarms itself and rolls a "
    "release back when they fire (environments[].watch_minutes)",
    "entrypoint": "conveyor runs the image's own ENTRYPOINT; set it in the Dockerfile",
    "command": "conveyor runs the image's own CMD; set it in the Dockerfile",
    "env_file": "write the file's variables in create.env (secrets as ssm:/ references)",
    "image.location": "conveyor builds the image from the repository (build.docker) and "
    "promotes that image by digest; an existing image is not its model. Commit a Dockerfile "
    "(FROM the image) and build it",
    "image.credentials": "conveyor pulls the image it built from its own ECR repository",
    "image.labels": "Docker labels on the container are not set by conveyor; use LABEL in the "
    "Dockerfile",
    "image.depends_on": "container start order is not configurable: sidecars start with the "
    "service's container",
    "image.healthcheck": "write the container health check's command as "
    'create.health_command: [CMD-SHELL, "<command line>"]',
    "image.build.cache_from": "conveyor's builds cache layers in a registry cache of their own",
    "http.path": "conveyor gives each service its own load balancer serving every path; "
    "routing one load balancer's paths to several services is not offered",
    "http.healthcheck": "only the health check's path is configurable "
    "(create.health_check_path); its port, codes, thresholds and times are conveyor's",
    "http.stickiness": "sticky sessions are not configurable",
    "http.deregistration_delay": "the deregistration delay is conveyor's",
    "http.allowed_source_ips": "the load balancer admits every address; restrict it with "
    "public: false (inside the VPC) or a WAF of your own",
    "http.additional_rules": "one listener rule per service: other paths and ports of the "
    "same load balancer are not offered",
    "http.target_container": "the load balancer sends traffic to the service's own container "
    "(the built image), never to a sidecar",
    "http.target_port": "the load balancer sends traffic to create.port",
    "http.alb": "conveyor creates the service's load balancer; sharing an imported one is not "
    "offered",
    "http.version": "the target group speaks HTTP/1.1; gRPC and HTTP/2 targets are not offered",
    "http.redirect_to_https": "with a domain, port 80 always redirects to HTTPS",
    "nlb": "Network Load Balancers are not offered; the service gets an Application Load Balancer",
    "count.spot": "Fargate Spot is not offered: tasks run on Fargate",
    "count.range.spot_from": "Fargate Spot is not offered: tasks run on Fargate",
    "count.cooldown": "scaling cooldowns are Application Auto Scaling's defaults",
    "count.cpu_percentage.cooldown": "scaling cooldowns are Application Auto Scaling's defaults",
    "count.memory_percentage.cooldown": "scaling cooldowns are Application Auto Scaling's defaults",
    "count.requests.cooldown": "scaling cooldowns are Application Auto Scaling's defaults",
    "count.response_time": "scaling on response time is not offered: use scaling.cpu, "
    "scaling.memory or scaling.requests_per_target",
    "platform": "the build's platform is linux/amd64 or linux/arm64; Windows containers are "
    "not offered",
    "sidecars": "this sidecar setting has no place in create.sidecars (name, image, essential, "
    "port, environment, secrets, cpu, memory, command)",
    "environments": "environment overrides apply only to environments the pipeline deploys to",
    "addons": "Copilot addons are CloudFormation templates of their own: deploy them as your "
    "own stacks",
}
ENVIRONMENT_REASONS: dict[str, str] = {
    "network.vpc": "conveyor creates each environment's VPC unless create.vpc names one",
    "network.vpc.flow_logs": "VPC flow logs are not configured by conveyor",
    "network.vpc.security_group": "conveyor's security groups admit the load balancer only",
    "http.public": "this setting of the public load balancer is conveyor's",
    "http.public.certificates": "certificates are carried over only with the service's alias "
    "(create.domain.certificate_arn)",
    "http.private": "the environment's internal load balancer: conveyor gives each service its "
    "own (create.public: false)",
    "observability": "Container Insights is not switched on by conveyor",
    "cdn": "CloudFront in front of the load balancer is not offered",
}
PIPELINE_REASONS: dict[str, str] = {
    "build": "conveyor writes the build itself (buildx with a registry cache, push by digest); "
    "its image, buildspec and extra policy are conveyor's",
    "source.properties.access_token_secret": "GitHub OAuth tokens are the deprecated v1 source "
    "(FM50): create a CodeStar connection and write source.github.connection",
    "source.properties.output_artifact_format": "conveyor chooses the source artifact's format",
    "stages.pre_deployments": "run the commands of the buildspec in environments[].before "
    "(commands, not a buildspec path)",
    "stages.post_deployments": "run the commands of the buildspec in environments[].tests "
    "(commands, not a buildspec path)",
    "stages.deployments": "the pipeline deploys this one service; deployment order between "
    "services is each pipeline's own",
}
# A backend's http section is Copilot's internal load balancer, which conveyor's backend has
# not: clients reach it through Service Connect.
BACKEND_REASONS: dict[str, str] = {
    **{key: reason for key, reason in REASONS.items() if not key.startswith("http")},
    "http": "conveyor's backend has no load balancer: the services of its Service Connect "
    "namespace call it at http://<connect.name>:<port>",
}
# A Backend Service with an http section sits behind Copilot's internal load balancer
# (https://aws.github.io/copilot-cli/docs/developing/internal-albs/): conveyor's web service with
# public: false, whose own internal load balancer admits the VPC's range.
INTERNAL_REASONS: dict[str, str] = {
    **REASONS,
    "network.connect": "conveyor's internal web service is not published in a Service Connect "
    "namespace (only a kind: backend is): its clients call its internal load balancer's name",
    "http.allowed_source_ips": "the internal load balancer admits the VPC's range (public: "
    "false); narrower sources are not offered: restrict them in the callers' security groups",
}
JOB_REASONS: dict[str, str] = {
    **REASONS,
    "retries": "a failed run is not retried by conveyor's job: the failure is notified, and "
    "the next run comes on schedule",
    "timeout": "a run's time limit is not a setting of conveyor's job",
}
DEFAULT_REASON = "conveyor has no setting for it"
# Manifest keys Copilot reads as mappings only, with what they hold: a scalar or list written
# there is a mistake to name as such, not a setting conveyor lacks.
MAPPINGS: dict[str, str] = {
    "image": "build: Dockerfile, port: 8080",
    "image.healthcheck": "command: [CMD-SHELL, …], interval: 10s",
    "network": "vpc: {placement: private}, connect: true",
    "network.vpc": "placement: private",
    "variables": "LOG_LEVEL: info",
    "secrets": "DB_PASSWORD: /copilot/app/env/secrets/db",
    "sidecars": "nginx: {image: public.ecr.aws/nginx/nginx:1.27, port: 80}",
    "deployment": "rolling: default",
    "subscribe": "topics: [...], queue: {...}",
    "on": "schedule: '@daily'",
}
_TYPES = {list: "a list", str: "text", int: "a number", float: "a number", bool: "a boolean"}


@dataclass(frozen=True)
class Options:
    connection: str | None = None
    email: str | None = None
    owner: str | None = None
    region: str | None = None


@dataclass
class Migration:
    """One Copilot service as a conveyor spec (None when its type has no conveyor kind), what
    was inferred (written as comments at the top of the file) and what was not carried over."""

    service: str
    kind: str
    spec: dict[str, Any] | None
    notes: list[Note]
    inferred: list[str]
    sources: list[str]


# --- reading a manifest with provenance -------------------------------------------------------


def _merge(base: Any, override: Any) -> Any:
    """Copilot's environment override: maps merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return base if override is None else override


def _matches(pattern: str, key: str) -> bool:
    """Whether `pattern` (dotted, `*` one segment) is `key` or one of its parents."""
    wanted = pattern.split(".")
    parts = key.split(".")
    return len(wanted) <= len(parts) and all(
        w in ("*", p) for w, p in zip(wanted, parts, strict=False)
    )


def _reason(table: dict[str, str], key: str) -> str:
    best = max((p for p in table if _matches(p, key)), key=len, default=None)
    return table[best] if best is not None and table[best] else DEFAULT_REASON


def _leaves(value: Any, prefix: str, used: frozenset[str], table: dict[str, str]) -> Iterator[str]:
    """The key paths under `value` that nothing in `used` carried over. A mapping none of
    whose keys was used, and whose keys all have its reason, is named once as a whole
    (`logging`, not each of its eleven keys)."""
    if prefix and any(_matches(pattern, prefix) for pattern in used):
        return
    if not isinstance(value, dict) or not value:
        if prefix:
            yield prefix
        return
    inside = not prefix or any(_matches(prefix, pattern) for pattern in used)
    if not inside and {_reason(table, key) for key in _all_keys(value, prefix)} == {
        _reason(table, prefix)
    }:
        yield prefix
        return
    for key, inner in value.items():
        yield from _leaves(inner, f"{prefix}.{key}" if prefix else str(key), used, table)


def _all_keys(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield f"{prefix}.{key}"
            yield from _all_keys(inner, f"{prefix}.{key}")


class _Reader:
    """The effective settings of one manifest for one environment (its overrides merged in),
    which keys were carried over, and the notes about the others."""

    def __init__(
        self,
        manifest: Manifest,
        notes: dict[tuple[str, str], Note],
        *,
        environment: str | None = None,
        reasons: dict[str, str],
        ignore: tuple[str, ...] = (),
    ) -> None:
        self.manifest = manifest
        self.environment = environment
        self._notes = notes
        self._reasons = reasons
        self._used: set[str] = set(ignore)
        self._dropped: list[tuple[str, str]] = []  # (key, why), noted by finish
        base = {k: v for k, v in manifest.data.items() if k != "environments"}
        overrides = manifest.data.get("environments")
        override = overrides.get(environment) if isinstance(overrides, dict) else None
        self.data: dict[str, Any] = (
            _merge(base, override) if environment and isinstance(override, dict) else base
        )

    def get(self, key: str) -> Any:
        value: Any = self.data
        for part in key.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def where(self, key: str) -> str:
        """The key as written in the manifest: the environment's override, else the base."""
        if not self.environment:
            return key
        parts = key.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            if f"environments.{self.environment}.{prefix}" in self.manifest.lines:
                # The override wrote this key, or replaced a whole value holding it; a mapping
                # it wrote merges, so its other keys come from the base.
                written = _dig(self.manifest.data, f"environments.{self.environment}.{prefix}")
                if end == len(parts) or not isinstance(written, dict):
                    return f"environments.{self.environment}.{key}"
                return key
        return key

    def use(self, key: str) -> None:
        self._used.add(key)

    def drop(self, key: str, message: str) -> None:
        """`key` is not carried over: say why and what to write instead (in finish)."""
        self._used.add(key)
        self._dropped.append((key, message))

    def finish(self) -> None:
        """Name every key that was neither carried over nor explained, and every key dropped;
        keys of one mapping left out for one reason are one note
        (`http.healthcheck.{port, interval}`)."""
        for key in _leaves(self.data, "", frozenset(self._used), self._reasons):
            value = self.get(key)
            if key in MAPPINGS and value is not None and not isinstance(value, dict):
                self.drop(
                    key,
                    f"{value!r} is {_TYPES.get(type(value), 'a single value')} where Copilot "
                    f"reads a mapping ({MAPPINGS[key]}): nothing under it was carried over",
                )
            else:
                self.drop(key, _reason(self._reasons, key))
        groups: dict[tuple[str, str], list[str]] = {}
        for key, message in self._dropped:
            parent = self.where(key).rpartition(".")[0]
            groups.setdefault((parent, message), []).append(self.where(key))
        self._dropped.clear()
        for (parent, message), keys in groups.items():
            if len(keys) == 1 or not parent:
                for key in keys:
                    self._note(key, key, message)
            else:
                names = ", ".join(key.rpartition(".")[2] for key in keys)
                self._note(keys[0], f"{parent}.{{{names}}}", message)

    def _note(self, key: str, shown: str, message: str) -> None:
        found = Note(self.manifest.file, self.manifest.line(key), shown, message)
        self._notes.setdefault((self.manifest.file, key), found)


# --- the service ------------------------------------------------------------------------------


def migrate_service(workspace: Workspace, name: str, options: Options) -> Migration:
    manifest = workspace.services[name]
    kind = manifest.data.get("type")
    notes: dict[tuple[str, str], Note] = {}
    for note in workspace.notes:
        notes[(note.file, note.key)] = note
    sources = [manifest.file]
    if not isinstance(kind, str):
        notes[(manifest.file, "type")] = manifest.note(
            "type",
            "no workload type: write type: Load Balanced Web Service (or the type "
            "`copilot svc init` gave it)",
        )
        return Migration(name, str(kind), None, list(notes.values()), [], sources)
    if kind not in KINDS:
        message = NO_EQUIVALENT.get(kind) or (
            f"unknown workload type {kind!r}: conveyor knows " + ", ".join(repr(k) for k in KINDS)
        )
        notes[(manifest.file, "type")] = manifest.note("type", f"not carried over: {message}")
        return Migration(name, kind, None, list(notes.values()), [], sources)
    return _Service(workspace, name, manifest, options, notes, kind).migration()


def app_name(application: str, service: str) -> tuple[str, str]:
    """The conveyor app name of a Copilot service (application-service when it fits), and
    what was inferred when it does not."""
    for candidate in (f"{application}-{service}", service):
        if re.fullmatch(APP_NAME_PATTERN, candidate):
            if candidate == f"{application}-{service}":
                return candidate, ""
            return candidate, (
                f"app: {candidate}, the service's name ({application}-{service} is not a valid "
                "app name: lowercase letters, digits and '-', up to 24)"
            )
    cleaned = re.sub(r"[^a-z0-9-]+", "-", service.lower()).strip("-")
    cleaned = re.sub(r"^[^a-z]+", "", cleaned)[:24].rstrip("-") or "app"
    cleaned = cleaned if len(cleaned) >= 2 else f"{cleaned}-app"
    return cleaned, (
        f"app: {cleaned}, made from the service's name {service!r} (an app name is lowercase "
        "letters, digits and '-', 2-24 characters)"
    )


class _Service:
    """One Copilot service of a type conveyor has a kind for, migrated environment by
    environment."""

    def __init__(
        self,
        workspace: Workspace,
        name: str,
        manifest: Manifest,
        options: Options,
        notes: dict[tuple[str, str], Note],
        copilot_type: str = WEB,
    ) -> None:
        self.copilot_type = copilot_type
        self.kind = KINDS[copilot_type]
        # Copilot's Backend Service with http: behind the environment's internal load
        # balancer; conveyor's equivalent is a web service whose load balancer is internal.
        self.internal = _internal_load_balancer(manifest)
        if self.internal:
            self.kind = "web"
        self.workspace = workspace
        self.name = name
        self.manifest = manifest
        self.options = options
        self.notes = notes
        self.inferred: list[str] = []
        self.sources = [manifest.file]
        # Environments whose certificate was offered, with the key it was read from.
        self.certificates_read: dict[str, str] = {}
        self.region = options.region
        self.env_name = ""  # the environment being migrated, as conveyor names it

    def note(self, manifest: Manifest, key: str, message: str) -> None:
        self.notes.setdefault((manifest.file, key), manifest.note(key, message))

    def migration(self) -> Migration:
        pipeline = self._pipeline()
        spec: dict[str, Any] = {
            "app": self._app_name(),
            "owner": self.options.owner or f"team-{self.workspace.application}",
        }
        if self.options.owner is None:
            self.inferred.append(f"owner: team-{self.workspace.application}, after the application")
        stages = self._stages(pipeline)
        source = self._source(pipeline)
        if self.region is not None:
            spec["region"] = self.region
        spec["source"] = source
        spec["build"] = self._build()
        spec["environments"] = [self._environment(stage, stages) for stage in stages]
        self._unused_overrides([stage.name for stage in stages])
        email = (
            self.options.email or f"team-{self.workspace.application}@{PLACEHOLDER_EMAIL_DOMAIN}"
        )
        if self.options.email is None:
            self.inferred.append(
                f"notifications.email: {email} is a placeholder (Copilot had no notifications); "
                "conveyor deploy refuses it until you write your team's address"
            )
        spec["notifications"] = {"email": [email]}
        if self.kind == "job" and any(
            "schedule" not in e["deploy"]["ecs"]["create"] for e in spec["environments"]
        ):
            self.note(
                self.manifest,
                "type",
                "not carried over: a job (kind: job) runs on a schedule, and this one has none "
                "conveyor can write (see on.schedule)",
            )
            return Migration(
                self.name, self.copilot_type, None, list(self.notes.values()), [], self.sources
            )
        order = {file: index for index, file in enumerate(self.sources)}
        notes = sorted(
            self.notes.values(), key=lambda n: (order.get(n.file, -1), n.line or 0, n.key)
        )
        return Migration(self.name, self.copilot_type, spec, notes, self.inferred, self.sources)

    # --- names ----------------------------------------------------------------------------

    def _app_name(self) -> str:
        name, why = app_name(self.workspace.application, self.name)
        if why:
            self.inferred.append(why)
        return name

    # --- the pipeline ---------------------------------------------------------------------

    def _pipeline(self) -> Manifest | None:
        """The pipeline that deploys this service: the first (by folder name) whose stages do
        not leave it out."""
        chosen = None
        for pipeline in self.workspace.pipelines:
            stages = pipeline.data.get("stages")
            if not isinstance(stages, list):
                continue
            deploys = all(
                not isinstance(s, dict)
                or not isinstance(s.get("deployments"), dict)
                or self.name in s["deployments"]
                for s in stages
            )
            if deploys and chosen is None:
                chosen = pipeline
            elif deploys:
                self.note(
                    pipeline,
                    "name",
                    f"another pipeline that deploys {self.name}; this file follows "
                    f"{chosen.file if chosen else 'the first'} (conveyor: one pipeline per spec)",
                )
        if chosen is not None:
            self.sources.append(chosen.file)
        return chosen

    def _stages(self, pipeline: Manifest | None) -> list[_Stage]:
        if pipeline is not None:
            return self._pipeline_stages(pipeline)
        names = list(self.workspace.environments)
        overrides = self.manifest.data.get("environments")
        origin = "the environment manifests (copilot/environments/), in name order"
        if not names and isinstance(overrides, dict):
            names = [str(n) for n in overrides]
            origin = "the service manifest's environments: overrides, in the order written"
        if not names:
            names = ["prod"]
            origin = "nothing (no pipeline, environment manifests or overrides): one 'prod'"
        self.inferred.append(
            f"environments: no pipeline manifest, so the environments and their order come "
            f"from {origin}; the last is production"
        )
        stages = [_Stage(n, None, None) for n in names]
        return self._checked_names(stages)

    def _pipeline_stages(self, pipeline: Manifest) -> list[_Stage]:
        reader = _Reader(
            pipeline, self.notes, reasons=PIPELINE_REASONS, ignore=("name", "version", "source")
        )
        reader.use("source")
        stages: list[_Stage] = []
        raw = pipeline.data.get("stages")
        for index, stage in enumerate(raw if isinstance(raw, list) else []):
            key = f"stages[{index}]"
            if not isinstance(stage, dict) or not isinstance(stage.get("name"), str):
                reader.drop(key, "a stage without a name: write name: <environment>")
                continue
            stages.append(_Stage(stage["name"], pipeline, index))
            for field_name in stage:
                if field_name not in ("name", "requires_approval", "test_commands"):
                    message = _reason(PIPELINE_REASONS, f"stages.{field_name}")
                    if field_name == "require_approval":
                        message = (
                            "not a Copilot key (Copilot reads requires_approval, so this stage "
                            "had no approval); write approval: true in conveyor.yaml if you "
                            "meant one"
                        )
                    reader.drop(f"{key}.{field_name}", message)
                else:
                    reader.use(f"{key}.{field_name}")
        reader.use("stages")
        reader.finish()
        if not stages:
            self.note(pipeline, "stages", "no stages: the environments come from elsewhere")
            return self._stages(None)
        self.inferred.append(
            f"environments: in the order of the stages of {pipeline.file}; the last "
            f"({stages[-1].name}) is production"
        )
        return self._checked_names(stages)

    def _checked_names(self, stages: list[_Stage]) -> list[_Stage]:
        kept: list[_Stage] = []
        for stage in stages:
            name = stage.name
            if not re.fullmatch(ENV_NAME_PATTERN, name) or len(name) > 15:
                fixed = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                fixed = re.sub(r"^[^a-z]+", "", fixed)[:15].rstrip("-") or "env"
                self.inferred.append(
                    f"environment {name!r} is named {fixed!r} (conveyor's environment names are "
                    "lowercase letters, digits and single inner hyphens, up to 15)"
                )
                stage = _Stage(fixed, stage.pipeline, stage.index, copilot_name=name)
            if any(k.name == stage.name for k in kept):
                self.inferred.append(f"environment {name!r} is listed twice; kept the first")
                continue
            kept.append(stage)
        return kept

    def _source(self, pipeline: Manifest | None) -> dict[str, Any]:
        connection = self.options.connection
        if connection is not None and not re.fullmatch(CONNECTION_ARN_PATTERN, connection):
            connection = None  # the CLI refuses it before; kept safe for library callers
        region = self.options.region or "us-east-1"
        placeholder = placeholder_connection(region)
        if pipeline is None:
            self.inferred.append(
                "source: no pipeline manifest; source.github.repo and connection are "
                "placeholders: write your repository and connection ARN"
            )
            return {"github": {"repo": "owner/name", "connection": connection or placeholder}}
        source = pipeline.data.get("source")
        source = source if isinstance(source, dict) else {}
        provider = source.get("provider")
        properties = source.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        branch = properties.get("branch")
        repository = properties.get("repository")
        if provider == "CodeCommit":
            name = str(repository or "").rstrip("/").rsplit("/", 1)[-1]
            found: dict[str, Any] = {"repository": name or "TODO"}
            if isinstance(branch, str):
                found["branch"] = branch
            # A CodeCommit source names no region (a connection's ARN does); the clone URL
            # does: https://git-codecommit.REGION.amazonaws.com/v1/repos/NAME
            cloned = re.search(r"git-codecommit\.([a-z0-9-]+)\.amazonaws\.com", str(repository))
            if self.options.region is None:
                self.region = cloned[1] if cloned else "us-east-1"
                self.inferred.append(
                    f"region: {self.region}, "
                    + ("the repository's" if cloned else "a placeholder: write your region")
                )
            self._other_source_keys(pipeline, properties, ("branch", "repository"))
            return {"codecommit": found}
        # GitHub and Bitbucket both reach CodePipeline through a CodeStar connection
        # (CodeStarSourceConnection), which is conveyor's source.github.
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodestarConnectionSource.html
        if provider == "Bitbucket":
            host = re.match(r"^\s*(?:https?://|git@)([^/:]+)", str(repository or ""))
            if host and host[1].lower() not in ("bitbucket.org", "www.bitbucket.org"):
                # https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodestarConnectionSource.html
                self.note(
                    pipeline,
                    "source.properties.repository",
                    f"{host[1]} is not Bitbucket Cloud: connections reach Bitbucket Cloud only, "
                    "not Bitbucket Server; mirror the repository to a provider they reach, or "
                    "use source.s3",
                )
        repo = _owner_and_name(str(repository or ""))
        github: dict[str, Any] = {"repo": repo or "owner/name"}
        if repo is None:
            self.note(
                pipeline,
                "source.properties.repository",
                f"{repository!r} is not a repository URL or owner/name; the file has a "
                "placeholder: write source.github.repo: owner/name",
            )
        if isinstance(branch, str):
            github["branch"] = branch
        github["connection"] = connection or placeholder
        if provider not in ("GitHub", "Bitbucket"):
            self.note(
                pipeline,
                "source.provider",
                f"provider {provider!r}: Copilot knows GitHub, Bitbucket and CodeCommit; the "
                "file reads it as a repository behind a CodeStar connection (source.github)",
            )
        elif provider == "Bitbucket":
            self.inferred.append(
                "source.github: the Bitbucket Cloud repository, through a CodeStar connection "
                "to Bitbucket (conveyor's connection source serves GitHub, Bitbucket Cloud and "
                "GitLab)"
            )
        if connection is None:
            named = properties.get("connection_name")
            which = (
                f"the connection named {named!r}"
                if isinstance(named, str)
                else "the connection Copilot created for the pipeline"
            )
            self.inferred.append(
                f"source.github.connection is a placeholder: write the ARN of {which} (aws "
                "codestar-connections list-connections), or pass --connection"
            )
        self._other_source_keys(pipeline, properties, ("branch", "repository", "connection_name"))
        return {"github": github}

    def _other_source_keys(
        self, pipeline: Manifest, properties: dict[str, Any], used: tuple[str, ...]
    ) -> None:
        for key in properties:
            if key not in used:
                full = f"source.properties.{key}"
                self.note(pipeline, full, _reason(PIPELINE_REASONS, full))

    # --- the build ------------------------------------------------------------------------

    def _build(self) -> dict[str, Any]:
        reader = _Reader(self.manifest, self.notes, reasons=REASONS)
        image = reader.get("image")
        build = image.get("build") if isinstance(image, dict) else None
        docker: dict[str, Any] = {}
        if isinstance(build, str):
            docker = _docker_from_path(build)
        elif isinstance(build, dict):
            dockerfile = build.get("dockerfile")
            context = build.get("context")
            if isinstance(context, str):
                docker["context"] = _relative(context)
            if isinstance(dockerfile, str):
                docker["file"] = _relative(dockerfile)
                docker.setdefault("context", _relative(PurePosixPath(dockerfile).parent.as_posix()))
            if isinstance(build.get("target"), str):
                docker["target"] = build["target"]
            args = build.get("args")
            if isinstance(args, dict) and args:
                docker["build_args"] = {str(k): _text(v) for k, v in args.items()}
        else:
            location = image.get("location") if isinstance(image, dict) else None
            docker = {"context": ".", "file": "Dockerfile"}
            self.inferred.append(
                (
                    f"build.docker: Copilot deployed an existing image ({location}); "
                    if isinstance(location, str)
                    else "build.docker: the manifest builds no image; "
                )
                + "conveyor builds one. build.docker.file: Dockerfile is a placeholder: "
                "commit a Dockerfile (FROM that image, if you keep building it elsewhere)"
            )
        platform = reader.get("platform")
        arch = platform.get("architecture") if isinstance(platform, dict) else platform
        if isinstance(arch, str) and ("arm" in arch):
            docker["platform"] = "linux/arm64"
        family = platform.get("osfamily") if isinstance(platform, dict) else platform
        if isinstance(family, str) and "windows" in family.lower():
            # The reader skips platform (read here); a Windows image would not start on Linux.
            self.note(self.manifest, "platform", REASONS["platform"])
        overrides = self.manifest.data.get("environments")
        for env, override in (overrides or {}).items() if isinstance(overrides, dict) else ():
            if isinstance(override, dict) and isinstance(override.get("image"), dict):
                for key in ("build", "location"):
                    if key in override["image"]:
                        self.note(
                            self.manifest,
                            f"environments.{env}.image.{key}",
                            "one image per pipeline: conveyor builds it once and promotes the "
                            "same digest through every environment; per-environment images are "
                            "not offered",
                        )
        return {"docker": docker}

    # --- an environment -------------------------------------------------------------------

    def _environment(self, stage: _Stage, stages: list[_Stage]) -> dict[str, Any]:
        last = stage is stages[-1]
        copilot_name = stage.copilot_name or stage.name
        out: dict[str, Any] = {"name": stage.name}
        named_production = stage.name in PRODUCTION_NAMES
        if last and not named_production:
            out["production"] = True
        elif not last and named_production:
            out["production"] = False
            self.inferred.append(
                f"environments: {stage.name} is not production (not the last stage)"
            )
        raw_stage = self._raw_stage(stage)
        if raw_stage.get("requires_approval") is True:
            out["approval"] = True
        elif last:
            self.inferred.append(
                f"environments: {stage.name} gets a manual approval (conveyor's default for "
                "production, FM76; Copilot's stage had none): write approval: false to skip it"
            )
        reader = _Reader(
            self.manifest,
            self.notes,
            environment=copilot_name,
            reasons=INTERNAL_REASONS
            if self.internal
            else {"backend": BACKEND_REASONS, "job": JOB_REASONS}.get(self.kind, REASONS),
            ignore=("name", "type", "image.build", "platform"),
        )
        self.env_name = stage.name
        create = self._create(reader, copilot_name, production=last)
        out["deploy"] = {"ecs": {"create": create}}
        commands = raw_stage.get("test_commands")
        in_network = self.kind == "backend" or self.internal
        if isinstance(commands, list) and commands and not in_network:
            out["tests"] = {"commands": [_text(c) for c in commands]}
        elif isinstance(commands, list) and commands and stage.pipeline is not None:
            self.note(
                stage.pipeline,
                f"stages[{stage.index}].test_commands",
                "an internal web service (public: false) is reached from its VPC only, where a "
                "tests: job (CodeBuild) is not: conveyor validates each release from a function "
                "in the VPC; test it through validate: or a service of the VPC"
                if self.internal
                else f"a {self.kind} is reached inside its network only, where a tests: job "
                "(CodeBuild) is not: test it through a web service of its namespace",
            )
        reader.finish()
        return out

    def _raw_stage(self, stage: _Stage) -> dict[str, Any]:
        if stage.pipeline is None or stage.index is None:
            return {}
        stages = stage.pipeline.data.get("stages")
        found = stages[stage.index] if isinstance(stages, list) else None
        return found if isinstance(found, dict) else {}

    def _create(self, reader: _Reader, env: str, *, production: bool) -> dict[str, Any]:
        create: dict[str, Any] = {} if self.kind == "web" else {"kind": self.kind}
        port = reader.get("image.port")
        if isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535:
            create["port"] = port
            reader.use("image.port")
        elif port is not None:
            reader.drop("image.port", f"{port!r} is not a port number (1-65535)")
        for key in ("cpu", "memory"):
            value = reader.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                create[key] = value
                reader.use(key)
        self._count(reader, create, production=production)
        if self.kind == "web":
            self._health_check(reader, create)
        self._health_command(reader, create)
        if self.kind == "backend":
            self._backend(reader, create, env)
        elif self.kind == "worker":
            self._worker(reader, create)
        elif self.kind == "job":
            self._job(reader, create)
        else:
            self._client(reader, create, env)
        placement = reader.get("network.vpc.placement")
        if self.internal:
            self._internal(reader, create, placement)
        elif placement in ("public", "private"):
            create["placement"] = placement
            reader.use("network.vpc.placement")
        elif placement is None:
            create["placement"] = COPILOT_PLACEMENT
            self._infer_once(
                "placement: public, Copilot's default (tasks in public subnets with public "
                "addresses, no NAT gateway); write placement: private to keep them off the "
                "internet"
            )
        env_vars = self._variables(reader)
        env_vars.update(self._secrets(reader, "secrets"))
        if env_vars:
            create["env"] = env_vars
        sidecars = self._sidecars(reader)
        if sidecars:
            create["sidecars"] = sidecars
        if self.kind == "web":
            self._domain(reader, env, create, production=production)
            for key in ("http.path",):
                if reader.get(key) in ("/", "", None):
                    reader.use(key)
            reader.use("http.alias")
            reader.use("http.hosted_zone")
        self._environment_manifest(env)
        self._checked_fargate_size(reader, create)
        return create

    def _internal(self, reader: _Reader, create: dict[str, Any], placement: Any) -> None:
        """Copilot's internal load balancer: public: false, in private subnets (conveyor's
        internal load balancer and the function that validates each release run there;
        Copilot's guide places these services there too)."""
        create["public"] = False
        create["placement"] = "private"
        if placement == "private":
            reader.use("network.vpc.placement")
        elif placement == "public":
            reader.drop(
                "network.vpc.placement",
                "the service sits behind an internal load balancer (public: false), whose "
                "tasks conveyor runs in private subnets: placement: private (a NAT gateway "
                "per environment)",
            )
        else:
            self._infer_once(
                "placement: private, where Copilot's default was public: conveyor runs the "
                "tasks of an internal load balancer (public: false) in private subnets"
            )
        self._infer_once(
            "public: false: Copilot's Backend Service with http sat behind the environment's "
            "internal load balancer; conveyor gives the service an internal load balancer of "
            "its own, admitting the VPC's range, and its clients call that load balancer's "
            "name (no longer http://<service>.<env>.<app>.internal)"
        )
        if reader.get("network.connect"):
            self._infer_once(
                "connect: Copilot also published the service in Service Connect; conveyor's "
                "internal web service is reached through its load balancer only"
            )

    def _backend(self, reader: _Reader, create: dict[str, Any], env: str) -> None:
        """A Backend Service: its Service Connect name (Copilot's alias, else the service's
        name, which is what its clients call), and a health command if Copilot had none."""
        connect = reader.get("network.connect")
        alias = connect.get("alias") if isinstance(connect, dict) else None
        name = alias if isinstance(alias, str) else self.name
        app = app_name(self.workspace.application, self.name)[0]
        if re.fullmatch(r"[a-z0-9_][a-z0-9_-]{0,63}", name):
            create["connect"] = {"name": name}
            reader.use("network.connect")
            calls = f"clients keep calling http://{name}:<port>"
        else:
            # Without connect.name the backend is published under the app's name.
            reader.drop(
                "network.connect",
                f"{name!r} is not a Service Connect name conveyor takes (lowercase letters, "
                "digits, '_', '-'): clients call the app's name",
            )
            calls = f"clients call http://{app}:<port> (not http://{name}:<port>)"
        self._infer_once(
            "connect: the backend gets a Service Connect namespace of its own "
            f"({app}-<environment>); Copilot's services shared the environment's. Web "
            "services that call it join that namespace (create.connect.namespace); " + calls
        )
        scaling = create.get("scaling")
        if isinstance(scaling, dict) and scaling.pop("requests_per_target", None) is not None:
            reader.drop(
                "count.requests",
                "a backend has no load balancer to count requests: scale on cpu or memory",
            )
            if scaling.get("cpu", 60) is None and scaling.get("memory") is None:
                scaling.pop("cpu")
                self._infer_once(
                    "scaling: a backend tracks cpu at 60% (conveyor's default) where Copilot "
                    "tracked requests"
                )
        if "health_command" in create:
            return
        check = reader.get("http.healthcheck")
        path = check.get("path") if isinstance(check, dict) else check
        port = create.get("port")
        if isinstance(check, dict) and isinstance(check.get("port"), int):
            port = check["port"]
        if reader.get("http") is None or port is None:
            _placeholder_health_command(self, create, "backend")
            return
        path = path if isinstance(path, str) and path.startswith("/") else "/"
        create["health_command"] = [
            "CMD-SHELL",
            f"curl -f http://localhost:{port}{path} || exit 1",
        ]
        self.inferred.append(
            f"health_command: curl on localhost:{port}{path}, from Copilot's internal load "
            "balancer's health check (conveyor's backend has no load balancer, and ECS must "
            "see the tasks healthy): the image needs curl, or write a command it can run"
        )

    def _worker(self, reader: _Reader, create: dict[str, Any]) -> None:
        """A Worker Service: its queue's settings, scaling on the backlog, and what Copilot's
        subscriptions to SNS topics did that conveyor's queue does not."""
        if create.pop("port", None) is not None:
            reader.drop("image.port", "a worker listens on no port: it reads its queue")
        queue: dict[str, Any] = {}
        settings = reader.get("subscribe.queue")
        settings = settings if isinstance(settings, dict) else {}
        timeout = _seconds(settings.get("timeout"))
        if timeout is not None and 0 <= timeout <= 43200:
            queue["visibility_timeout_seconds"] = int(timeout)
            reader.use("subscribe.queue.timeout")
        retention = _seconds(settings.get("retention"))
        if retention is not None:
            days = max(1, min(7, round(retention / 86400)))
            queue["retention_days"] = days
            if days * 86400 != retention:
                reader.drop(
                    "subscribe.queue.retention",
                    f"{settings['retention']} is kept as {days} day{'s' if days > 1 else ''}: "
                    "conveyor's queue keeps messages 1 to 7 days (its dead-letter queue 14)",
                )
            else:
                reader.use("subscribe.queue.retention")
        tries = _dig(settings, "dead_letter.tries")
        if isinstance(tries, int) and 1 <= tries <= 1000:
            queue["max_receive_count"] = tries
            reader.use("subscribe.queue.dead_letter.tries")
        else:
            self._infer_once(
                "queue: a dead-letter queue after 5 receives, with an alarm (conveyor's worker "
                "always has one; Copilot's had one only with dead_letter.tries)"
            )
        if queue:
            create["queue"] = queue
        if reader.get("subscribe.topics"):
            reader.drop(
                "subscribe.topics",
                "conveyor's worker queue takes messages from the IAM roles in "
                "create.queue.producers; it subscribes to no SNS topic. Until you subscribe "
                "the queue (the stack's QueueArn output) to these topics and allow them in "
                "its policy, their messages do not reach this worker",
            )
        self._infer_once(
            "env: the container finds its queue in QUEUE_URL (and QUEUE_ARN); Copilot's "
            "was COPILOT_QUEUE_URI: read QUEUE_URL in your code"
        )
        self._worker_scaling(reader, create)
        if "health_command" not in create:
            _placeholder_health_command(self, create, "worker")

    def _job(self, reader: _Reader, create: dict[str, Any]) -> None:
        """A Scheduled Job: its schedule as EventBridge Scheduler's (Copilot's own conversion,
        migrate/schedule.py) and its command; it serves nothing and keeps no task count."""
        if create.pop("port", None) is not None:
            reader.drop("image.port", "a job listens on no port: it runs on its schedule")
        if create.pop("health_command", None) is not None:
            reader.drop(
                "image.healthcheck.command",
                "a job is judged by its exit code; nothing waits for its health",
            )
        schedule = reader.get("on.schedule")
        expression, why = (
            scheduler_expression(schedule) if isinstance(schedule, str) else (None, "")
        )
        if expression is not None:
            create["schedule"] = expression
            reader.use("on.schedule")
            if expression != schedule:
                self._infer_once(
                    f"schedule: {expression}, Copilot's {schedule!r} as EventBridge Scheduler "
                    "reads it (UTC, as Copilot ran it)"
                )
        else:
            reader.drop("on.schedule", why or "write on.schedule: a cron or rate expression")
        command = reader.get("command")
        if isinstance(command, str) and command.strip():
            create["command"] = shlex.split(command)
            reader.use("command")
        elif isinstance(command, list) and command:
            create["command"] = [_text(c) for c in command]
            reader.use("command")

    def _worker_scaling(self, reader: _Reader, create: dict[str, Any]) -> None:
        """Copilot's queue_delay is a backlog per task (acceptable_latency divided by
        msg_processing_time, docs/manifest/worker-service.en.md#count-queue-delay): conveyor's
        messages_per_task."""
        scaling = create.get("scaling")
        if not isinstance(scaling, dict):
            return
        latency = _seconds(reader.get("count.queue_delay.acceptable_latency"))
        processing = _seconds(reader.get("count.queue_delay.msg_processing_time"))
        if latency and processing:
            scaling["messages_per_task"] = max(1, min(1_000_000, int(latency / processing)))
            reader.use("count.queue_delay.acceptable_latency")
            reader.use("count.queue_delay.msg_processing_time")
            if reader.get("count.cpu_percentage") is None:
                scaling["cpu"] = None  # Copilot tracked the backlog alone
            if scaling.pop("requests_per_target", None) is not None:
                reader.drop(
                    "count.requests",
                    "a worker has no load balancer to count requests: it scales on its backlog",
                )
            return
        create.pop("scaling")
        create["desired_count"] = scaling["min"]
        reader.drop(
            "count",
            f"a worker scales on its queue's backlog (count.queue_delay), which Copilot's did "
            f"not: it runs {scaling['min']} tasks (desired_count); write scaling with "
            "messages_per_task to scale",
        )

    def _client(self, reader: _Reader, create: dict[str, Any], env: str) -> None:
        """A web service with Service Connect on joins the namespace of the workspace's
        backend, when there is exactly one to join."""
        connect = reader.get("network.connect")
        if connect is False:
            reader.use("network.connect")  # off, as conveyor's web service is
        if not connect:
            return
        backends = [
            name
            for name, manifest in self.workspace.services.items()
            if manifest.data.get("type") == BACKEND
            and not _internal_load_balancer(manifest)
            and name != self.name
        ]
        internal = [
            name
            for name, manifest in self.workspace.services.items()
            if _internal_load_balancer(manifest) and name != self.name
        ]
        if not backends and internal:
            reader.drop(
                "network.connect",
                f"Service Connect: the Backend Service{'s' if len(internal) > 1 else ''} "
                f"{', '.join(internal)} sat behind Copilot's internal load balancer and "
                f"{'are' if len(internal) > 1 else 'is'} migrated as a web service with an "
                "internal load balancer of its own (public: false), published in no "
                "namespace: call that load balancer's name",
            )
            return
        if len(backends) != 1:
            return  # reported with network.connect's reason
        backend = app_name(self.workspace.application, backends[0])[0]
        create["connect"] = {"namespace": f"{backend}-{self.env_name}"}
        reader.use("network.connect")
        self._infer_once(
            f"connect.namespace: {backend}-<environment>, the Service Connect namespace of the "
            f"Backend Service {backends[0]}, which its stack creates: deploy the backend "
            "first (conveyor gives each backend its own namespace; Copilot's services shared "
            "the environment's)"
        )

    def _infer_once(self, text: str) -> None:
        if text not in self.inferred:
            self.inferred.append(text)

    def _checked_fargate_size(self, reader: _Reader, create: dict[str, Any]) -> None:
        """A cpu and memory Fargate offers, or both left at conveyor's defaults (256, 512)."""
        cpu = create.get("cpu", 256)
        memory = create.get("memory", 512)
        if memory in FARGATE_MEMORY.get(cpu, ()):
            return
        for key in ("cpu", "memory"):
            if key in create:
                create.pop(key)
                reader.drop(
                    key,
                    f"Fargate has no task with cpu {cpu} and memory {memory}: cpu and memory "
                    "are left at conveyor's defaults (256, 512); write a size Fargate offers "
                    "(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html)",
                )

    def _count(self, reader: _Reader, create: dict[str, Any], *, production: bool) -> None:
        count = reader.get("count")
        if isinstance(count, int) and not isinstance(count, bool):
            if 1 <= count <= 100:
                create["desired_count"] = count
                reader.use("count")
            else:
                reader.drop("count", f"{count} tasks: conveyor runs 1 to 100 (desired_count)")
            return
        if not isinstance(count, dict):
            if count is not None:
                reader.drop("count", "write a number of tasks or a scaling range")
            return
        low, high = _range(count.get("range"))
        if low is None or high is None:
            spot = count.get("spot")
            if isinstance(spot, int) and 1 <= spot <= 100:
                create["desired_count"] = spot
                reader.drop(
                    "count.spot",
                    f"Fargate Spot is not offered: the {spot} tasks run on Fargate (desired_count)",
                )
            if "range" in count:
                reader.drop("count.range", "write the range as n-m or {min: n, max: m}")
            return
        reader.use("count.range.min")
        reader.use("count.range.max")
        if isinstance(count.get("range"), str):
            reader.use("count.range")
        scaling: dict[str, Any] = {"min": low, "max": high}
        metrics = {
            "cpu_percentage": "cpu",
            "memory_percentage": "memory",
            "requests": "requests_per_target",
        }
        for copilot_key, key in metrics.items():
            value = count.get(copilot_key)
            target = value.get("value") if isinstance(value, dict) else value
            if isinstance(target, int) and not isinstance(target, bool):
                scaling[key] = target
                reader.use(f"count.{copilot_key}")
                if isinstance(value, dict):
                    reader.use(f"count.{copilot_key}.value")
        if "cpu" not in scaling and ("memory" in scaling or "requests_per_target" in scaling):
            scaling["cpu"] = None  # Copilot tracked only what it was given
        if not {"cpu", "memory", "requests_per_target"} & set(scaling) and not count.get(
            "queue_delay"
        ):
            self._infer_once(
                "scaling: Copilot's count gave a range and no metric; conveyor tracks cpu at 60% "
                "(its default) between them"
            )
        # Copilot's `requests` is ALBRequestCountPerTarget, as conveyor's requests_per_target
        # (docs/manifest/lb-web-service.en.md#count-requests).
        if production and scaling["min"] < 2:
            self.inferred.append(
                f"scaling.min: 2 in production (Copilot's range started at {scaling['min']}): "
                "one task per availability zone at least"
            )
            scaling["min"] = 2
            scaling["max"] = max(scaling["max"], 2)
        create["scaling"] = scaling

    def _health_check(self, reader: _Reader, create: dict[str, Any]) -> None:
        check = reader.get("http.healthcheck")
        path = check.get("path") if isinstance(check, dict) else check
        if isinstance(check, dict):
            reader.use("http.healthcheck.path")
        elif check is not None:
            reader.use("http.healthcheck")
        if path is None:
            create["health_check_path"] = COPILOT_HEALTH_CHECK_PATH
            self._infer_once("health_check_path: \"/\", Copilot's default (conveyor's is /health)")
        elif isinstance(path, str) and path.startswith("/") and " " not in path:
            create["health_check_path"] = path
        else:
            reader.drop(
                "http.healthcheck" + (".path" if isinstance(check, dict) else ""),
                f"{path!r} is not a path starting with /; write create.health_check_path",
            )

    def _health_command(self, reader: _Reader, create: dict[str, Any]) -> None:
        """Copilot's container health check (image.healthcheck, docs/include/
        image-healthcheck.en.md) takes ECS's own command forms, as create.health_command does;
        its timings are conveyor's (10 s interval, 5 s timeout, 3 retries, 60 s start)."""
        command = reader.get("image.healthcheck.command")
        if command is None:
            return
        if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
            reader.drop("image.healthcheck.command", 'write [CMD-SHELL, "<command line>"]')
            return
        try:
            CreateService.model_validate({"health_command": command})
        except ValidationError as exc:
            message = exc.errors()[0]["msg"].removeprefix("Value error, ")
            reader.drop("image.healthcheck.command", f"not carried over: {message}")
            return
        create["health_command"] = command
        reader.use("image.healthcheck.command")
        timings = [
            k
            for k in ("interval", "retries", "timeout", "start_period")
            if reader.get(f"image.healthcheck.{k}") is not None
        ]
        for key in timings:
            reader.drop(
                f"image.healthcheck.{key}",
                "the health check's timings are conveyor's: every 10 s, 5 s timeout, 3 "
                "failures in a row, after a 60 s start period "
                "(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html)",
            )

    def _variables(self, reader: _Reader) -> dict[str, str]:
        variables = reader.get("variables")
        found: dict[str, str] = {}
        if not isinstance(variables, dict):
            return found
        for name, value in variables.items():
            key = f"variables.{name}"
            text = _scalar(value)
            if isinstance(value, bool):
                # Copilot's YAML (go-yaml v3) reads `on`, `yes` and `no` as text, where YAML 1.1
                # made them booleans (github.com/aws/copilot-cli/issues/1120): keep what was
                # written.
                text = self.manifest.written(reader.where(key)) or text
            if text is None:
                reader.drop(
                    key,
                    "a value from a CloudFormation export (from_cfn): conveyor writes only "
                    "literal values; write the exported value, or read it at start-up",
                )
                continue
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
                reader.drop(key, "not a shell variable name")
                continue
            if not is_secret_ref(text) and (looks_like_token(text) or name_suggests_secret(name)):
                reader.drop(
                    key,
                    "looks like a secret in plain text: store it in SSM Parameter Store and list "
                    "it under secrets (conveyor writes it as an ssm:/ reference)",
                )
                continue
            found[str(name)] = text
            reader.use(key)
        return found

    def _secrets(self, reader: _Reader, prefix: str) -> dict[str, str]:
        secrets = reader.get(prefix)
        found: dict[str, str] = {}
        if not isinstance(secrets, dict):
            return found
        for name, value in secrets.items():
            key = f"{prefix}.{name}"
            ref, why = _secret_ref(value)
            if ref is None:
                reader.drop(key, why)
                continue
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
                reader.drop(key, "not a shell variable name")
                continue
            found[str(name)] = ref
            reader.use(key)
            if isinstance(value, dict):
                reader.use(f"{key}.secretsmanager")
        return found

    def _sidecars(self, reader: _Reader) -> list[dict[str, Any]]:
        sidecars = reader.get("sidecars")
        found: list[dict[str, Any]] = []
        if not isinstance(sidecars, dict):
            return found
        for name, config in sidecars.items():
            key = f"sidecars.{name}"
            if not isinstance(config, dict):
                reader.drop(key, "a sidecar is a mapping (image: …, port: …)")
                continue
            image = config.get("image")
            if not isinstance(image, str):
                reader.drop(
                    key,
                    "a sidecar built from a Dockerfile (image.build) or without an image: "
                    "conveyor's sidecars run a pinned image: build it, push it, and name it "
                    "by tag or digest",
                )
                continue
            sidecar: dict[str, Any] = {"name": str(name), "image": image}
            # Copilot's sidecars are essential unless they say otherwise
            # (docs/include/sidecar-config.en.md); conveyor's are not.
            sidecar["essential"] = config.get("essential", True) is not False
            port = _port(config.get("port"))
            if port is not None:
                sidecar["port"] = port
            environment: dict[str, str] = {}
            variables = config.get("variables")
            for var, value in (variables or {}).items() if isinstance(variables, dict) else ():
                text = _scalar(value)
                if text is None:
                    reader.drop(f"{key}.variables.{var}", "a from_cfn value: write the value")
                    continue
                environment[str(var)] = text
                reader.use(f"{key}.variables.{var}")
            if environment:
                sidecar["environment"] = environment
            sidecar_secrets = self._secrets(reader, f"{key}.secrets")
            if sidecar_secrets:
                sidecar["secrets"] = sidecar_secrets
            command = config.get("command")
            if isinstance(command, str):
                sidecar["command"] = shlex.split(command)
            elif isinstance(command, list):
                sidecar["command"] = [_text(c) for c in command]
            try:
                Sidecar.model_validate(sidecar)
            except ValidationError as exc:
                first = exc.errors()[0]
                reader.drop(key, f"not carried over: {first['msg'].removeprefix('Value error, ')}")
                continue
            for used in ("image", "essential", "port", "command"):
                reader.use(f"{key}.{used}")
            found.append(sidecar)
        return found

    def _domain(
        self, reader: _Reader, env: str, create: dict[str, Any], *, production: bool
    ) -> None:
        aliases = _aliases(reader.get("http.alias"))
        zone = reader.get("http.hosted_zone")
        certificate = self._certificate(env, "private" if self.internal else "public")
        if aliases:
            name, alias_zone = aliases[0]
            zone = alias_zone or zone
            for index, (extra, _) in enumerate(aliases[1:], 1):
                reader.drop(
                    f"http.alias[{index}]",
                    f"{extra}: conveyor's domain is one name with its certificate; point other "
                    "names at it with DNS records of your own",
                )
            domain: dict[str, Any] = {"name": name}
            if "${" in name:
                reader.drop(
                    "http.alias",
                    f"{name!r} is filled in from the environment when Copilot deploys; write "
                    "the name itself in create.domain.name",
                )
            elif isinstance(zone, str) and re.fullmatch(r"Z[A-Z0-9]{1,31}", zone):
                domain["hosted_zone_id"] = zone
            elif zone is not None:
                reader.drop("http.hosted_zone", f"{zone!r} is not a Route 53 hosted zone id")
            if "${" not in name and certificate is not None:
                domain["certificate_arn"] = certificate
            if "${" not in name and ("hosted_zone_id" in domain or "certificate_arn" in domain):
                create["domain"] = domain
                return
            if "${" not in name:
                reader.drop(
                    "http.alias",
                    f"{name} came from the application's domain (copilot app init --domain): "
                    "write create.domain: {name: " + name + ", hosted_zone_id: <the zone's id>} "
                    "(aws route53 list-hosted-zones-by-name --dns-name <domain>)",
                )
        if production:
            create["plain_http"] = {
                "reason": "migrated from AWS Copilot, which served this service over plain HTTP; "
                "write create.domain and remove plain_http"
            }
            self.inferred.append(
                "plain_http: production serves plain HTTP as it did under Copilot (no domain "
                "was carried over); write create.domain (name and hosted zone or certificate) "
                "and remove plain_http"
            )

    def _certificate(self, env: str, scope: str) -> str | None:
        """The first certificate of the environment's public load balancer, or of its
        internal one (http.private.certificates) for a service behind that."""
        manifest = self.workspace.environments.get(env)
        if manifest is None:
            return None
        key = f"http.{scope}.certificates"
        certificates = _dig(manifest.data, key)
        if not isinstance(certificates, list) or not certificates:
            return None
        self.certificates_read[env] = key
        first = certificates[0]
        if isinstance(first, str) and re.fullmatch(CERTIFICATE_ARN_PATTERN, first):
            where, region = first.split(":")[3], self._pipeline_region()
            if where != region:
                # ACM certificates are regional: the spec refuses one of another region than
                # the environment's. https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
                self.note(
                    manifest,
                    key,
                    f"the certificate is in {where} and the environments deploy to {region}, "
                    f"where a load balancer cannot use it: run again with --region {where} "
                    f"(and a connection of that region), or write a certificate of {region} "
                    "in create.domain.certificate_arn",
                )
                return None
            if len(certificates) > 1:
                self.note(
                    manifest,
                    key,
                    f"{len(certificates)} certificates: the service's domain takes the first; "
                    "a conveyor service has one name and one certificate",
                )
            return first
        self.note(
            manifest,
            key,
            f"{first!r} is not an ACM certificate ARN (environment variables are not expanded): "
            "write create.domain.certificate_arn",
        )
        return None

    def _pipeline_region(self) -> str:
        """The region the written spec deploys to: its region key, else its connection's."""
        if self.region is not None:
            return self.region
        connection = self.options.connection
        if connection is not None and re.fullmatch(CONNECTION_ARN_PATTERN, connection):
            return connection.split(":")[3]
        return "us-east-1"  # the placeholder connection's (_source)

    def _environment_manifest(self, env: str) -> None:
        manifest = self.workspace.environments.get(env)
        if manifest is None or manifest.file in self.sources:
            return
        self.sources.append(manifest.file)
        vpc_id = _dig(manifest.data, "network.vpc.id")
        explained = {"name", "type"}
        if env in self.certificates_read:
            explained.add(self.certificates_read[env])
        if vpc_id is not None:
            explained.add("network.vpc")
        for key in _leaves(manifest.data, "", frozenset(explained), ENVIRONMENT_REASONS):
            self.note(manifest, key, _reason(ENVIRONMENT_REASONS, key))
        if vpc_id is not None:
            subnets = _dig(manifest.data, "network.vpc.subnets")
            self.note(
                manifest,
                "network.vpc.id",
                f"the imported VPC {vpc_id} is not carried over: conveyor creates a VPC until "
                "create.vpc names it, and that needs each subnet's availability zone, which "
                "the manifest does not say. Write create.vpc: {id, availability_zones, "
                "public_subnets, private_subnets} in the order aws ec2 describe-subnets "
                "--subnet-ids … --query 'Subnets[].[SubnetId,AvailabilityZone]' prints"
                + ("" if subnets else " (the manifest names no subnets)"),
            )

    def _unused_overrides(self, environments: list[str]) -> None:
        overrides = self.manifest.data.get("environments")
        if not isinstance(overrides, dict):
            return
        for env in overrides:
            if env not in environments:
                self.note(
                    self.manifest,
                    f"environments.{env}",
                    f"no pipeline stage deploys to {env}; its overrides are not carried over "
                    "(add the environment to the pipeline first)",
                )


@dataclass(frozen=True)
class _Stage:
    name: str
    pipeline: Manifest | None
    index: int | None
    copilot_name: str | None = field(default=None)


# --- values -----------------------------------------------------------------------------------


def _internal_load_balancer(manifest: Manifest) -> bool:
    """A Backend Service with an http section: Copilot put it behind the environment's internal
    Application Load Balancer (docs/developing/internal-albs)."""
    return manifest.data.get("type") == BACKEND and isinstance(manifest.data.get("http"), dict)


# conveyor's own suggestion for a service no load balancer checks (its worker's error message).
PLACEHOLDER_HEALTH_COMMAND = ["CMD-SHELL", "test -f /tmp/healthy || exit 1"]


def _placeholder_health_command(service: _Service, create: dict[str, Any], kind: str) -> None:
    """A backend or worker needs a container health check (no load balancer checks its tasks,
    and without one a task that starts counts as healthy); Copilot's had none. The placeholder
    fails closed: until the service touches the file, its deployments roll back."""
    create["health_command"] = list(PLACEHOLDER_HEALTH_COMMAND)
    service._infer_once(
        f'health_command: [CMD-SHELL, "test -f /tmp/healthy || exit 1"] is a placeholder: '
        f"Copilot's {kind} had no health check, and conveyor's needs one (no load balancer "
        f"checks it). Make the {kind} touch /tmp/healthy while it works, or write a check of "
        "your own: until then every deployment rolls back"
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _scalar(value: Any) -> str | None:
    if isinstance(value, (str, int, float, bool)):
        return _text(value)
    return None


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(value: Any) -> float | None:
    """A Copilot duration (`30s`, `1h30m`, `250ms`, `4d`) in seconds, or None."""
    if not isinstance(value, str) or not value:
        return None
    parts = _DURATION_PART.findall(value)
    if "".join(number + unit for number, unit in parts) != value.strip():
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def _dig(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _relative(path: str) -> str:
    normal = posixpath.normpath(path.strip())
    return "." if normal in ("", ".") else normal.removeprefix("./")


def _docker_from_path(dockerfile: str) -> dict[str, Any]:
    """Copilot's `image.build: path/to/Dockerfile`: the file, built in its own folder
    (docs/include/image-config.en.md)."""
    file = _relative(dockerfile)
    return {"context": _relative(PurePosixPath(file).parent.as_posix()), "file": file}


def _owner_and_name(repository: str) -> str | None:
    """owner/name from a repository URL (https://github.com/owner/name[.git],
    https://bitbucket.org/owner/name) or an owner/name."""
    text = repository.strip().removesuffix("/").removesuffix(".git")
    text = re.sub(r"^(https?://|git@)[^/:]+[/:]", "", text)
    if re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", text):
        return text
    return None


def _range(value: Any) -> tuple[int | None, int | None]:
    if isinstance(value, str):
        found = re.fullmatch(r"\s*(\d{1,3})\s*-\s*(\d{1,3})\s*", value)
        if found:
            return _bounded(int(found[1]), int(found[2]))
    if isinstance(value, dict):
        low, high = value.get("min"), value.get("max")
        if isinstance(low, int) and isinstance(high, int):
            return _bounded(low, high)
    return None, None


def _bounded(low: int, high: int) -> tuple[int | None, int | None]:
    if 1 <= low <= high <= 100:
        return low, high
    return None, None


def _port(value: Any) -> int | None:
    text = str(value).split("/", 1)[0] if value is not None else ""
    if text.isdigit() and 1 <= int(text) <= 65535:
        return int(text)
    return None


def _aliases(value: Any) -> list[tuple[str, str | None]]:
    """Copilot's http.alias: a name, a list of names, or a list of {name, hosted_zone}."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    found: list[tuple[str, str | None]] = []
    for item in items:
        if isinstance(item, str):
            found.append((item, None))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            zone = item.get("hosted_zone")
            found.append((item["name"], zone if isinstance(zone, str) else None))
    return found


def _secret_ref(value: Any) -> tuple[str | None, str]:
    """conveyor's reference for a Copilot secret, or None and why not.

    Copilot's forms (docs/include/secrets.en.md, docs/developing/secrets.en.md): an SSM
    parameter's name or ARN, `{secretsmanager: name}` or `name:json-key:version-stage:version-id`,
    or `{from_cfn: export}`. conveyor reads `ssm:/NAME` by the parameter's ARN in the
    environment's account and region (arn:…:parameter/NAME): the same parameter a name without
    a leading slash names. ECS accepts a parameter's name or ARN in the same Region
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Secret.html)."""
    if isinstance(value, dict):
        if "from_cfn" in value:
            return None, (
                "a secret from a CloudFormation export (from_cfn): write the parameter's name "
                "as ssm:/NAME or the secret's as secretsmanager:NAME"
            )
        name = value.get("secretsmanager")
        if not isinstance(name, str):
            return None, "write an SSM parameter name or {secretsmanager: name}"
        if name.startswith("arn:"):
            return None, (
                "a Secrets Manager ARN: write the secret's name as secretsmanager:NAME (the "
                "ARN's six-character suffix is not part of the name)"
            )
        secret, _, rest = name.partition(":")
        json_key, _, versions = rest.partition(":")
        ref = f"secretsmanager:{secret}" + (f":{json_key}" if json_key else "")
        if versions.strip(":"):
            return None, (
                "a pinned version stage or id: conveyor reads the secret's current version; "
                f"write {ref}"
            )
        return (ref, "") if is_secret_ref(ref) else (None, f"{name!r} is not a secret's name")
    if not isinstance(value, str) or not value:
        return None, "write an SSM parameter name or {secretsmanager: name}"
    parameter = value
    arn = re.fullmatch(r"arn:aws[a-z-]*:ssm:[^:]*:\d*:parameter(/.+)", value)
    if arn:
        parameter = arn[1]
    elif value.startswith("arn:"):
        return None, "an ARN conveyor does not read: write ssm:/NAME or secretsmanager:NAME"
    ref = "ssm:" + (parameter if parameter.startswith("/") else f"/{parameter}")
    if is_secret_ref(ref):
        return ref, ""
    return None, f"{value!r} is not an SSM parameter name"
