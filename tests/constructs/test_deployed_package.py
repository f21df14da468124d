"""The MarkDeployed job of a Lambda environment, run in bash against the stub `aws` CLI and its
model of a versioned bucket (tests/contracts/stub_cli.py): what it copies, what it exports, and
what it does on a re-run, a rollback and a package that is gone (F6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conveyor.constructs.buildspec import mark_deployed_package_buildspec
from tests.contracts.buildspecs import install_stubs, script

BUCKET = "quotes-packages"
BUILD_KEY = "quotes-package.zip"
PROD_KEY = "deployed/prod/quotes-package.zip"
META = "conveyor-package-version"
PIPELINE_REGION = "eu-west-1"


class Store:
    """The package store's versions (oldest first per key) and the job's runs against it."""

    def __init__(self, root: Path, target: str = BUCKET, region: str | None = None) -> None:
        """`target`, `region`: where the environment's key lives (another region's package
        store, which the action names), else the package store itself in the job's region."""
        self.root = root
        self.target = target
        self.region = region
        self.state = root / "s3.json"
        self.bin = root / "bin"
        install_stubs(self.bin)
        self.state.write_text("{}")

    def build(self, version: str) -> None:
        """The build uploaded a new version of the build key."""
        self.put(BUILD_KEY, version, {})

    def put(self, key: str, version: str, metadata: dict[str, str]) -> None:
        state = json.loads(self.state.read_text())
        state.setdefault(f"{BUCKET}/{key}", []).append({"VersionId": version, "Metadata": metadata})
        self.state.write_text(json.dumps(state))

    def _bucket(self, key: str) -> str:
        return BUCKET if key == BUILD_KEY else self.target

    def expire(self, key: str, version: str) -> None:
        state = json.loads(self.state.read_text())
        path = f"{self._bucket(key)}/{key}"
        state[path] = [v for v in state[path] if v["VersionId"] != version]
        self.state.write_text(json.dumps(state))

    def versions(self, key: str) -> list[dict[str, Any]]:
        state = json.loads(self.state.read_text())
        found: list[dict[str, Any]] = state.get(f"{self._bucket(key)}/{key}", [])
        return found

    def mark(self, version: str, calls: str = "calls.jsonl") -> subprocess.CompletedProcess[str]:
        """One MarkDeployed run for prod with the build version #{Build.PACKAGE_VERSION}."""
        (self.root / calls).write_text("")
        spec = mark_deployed_package_buildspec()
        exported = self.root / "exported.env"
        exported.write_text("")
        return subprocess.run(
            ["bash", "-c", script(spec)],
            cwd=self.bin,
            env={
                "PATH": f"{self.bin}:{os.environ['PATH']}",
                "STUB_CALLS": str(self.root / calls),
                "STUB_REAL_PYTHON": sys.executable,
                "STUB_S3": str(self.state),
                # What CodeBuild sets in every build:
                # https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html
                "AWS_REGION": PIPELINE_REGION,
                "PACKAGE_BUCKET": BUCKET,
                "PACKAGE_KEY": BUILD_KEY,
                "PACKAGE_VERSION": version,
                "DEPLOYED_KEY": PROD_KEY,
                **(
                    {"DEPLOYED_BUCKET": self.target, "DEPLOYED_REGION": self.region}
                    if self.region
                    else {}
                ),
            },
            capture_output=True,
            text=True,
            check=False,
        )

    def exported(self) -> dict[str, str]:
        lines = (self.root / "exported.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def calls(self) -> list[list[str]]:
        return [call[1:3] for call in self.full_calls()]

    def full_calls(self) -> list[list[str]]:
        lines = (self.root / "calls.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path)


def test_the_release_is_copied_to_the_environment_key_and_its_version_exported(
    store: Store,
) -> None:
    store.build("b1")
    done = store.mark("b1")
    assert done.returncode == 0, done.stderr
    (copy,) = store.versions(PROD_KEY)
    assert copy["Metadata"] == {META: "b1"}
    assert store.exported() == {"DEPLOYED_VERSION": copy["VersionId"]}
    assert store.calls()[-1] == ["s3api", "copy-object"]
    assert "b1" in done.stdout and copy["VersionId"] in done.stdout


def test_a_re_run_reuses_the_copy_instead_of_making_another(store: Store) -> None:
    """A retried stage must not push the running version down the kept versions."""
    store.build("b1")
    assert store.mark("b1").returncode == 0
    first = store.exported()
    done = store.mark("b1")
    assert done.returncode == 0, done.stderr
    assert store.exported() == first
    assert len(store.versions(PROD_KEY)) == 1
    assert ["s3api", "copy-object"] not in store.calls()
    assert "already" in done.stdout


def test_each_release_is_a_new_version_of_the_environment_key(store: Store) -> None:
    for build in ("b1", "b2", "b3"):
        store.build(build)
        assert store.mark(build).returncode == 0
    assert [v["Metadata"][META] for v in store.versions(PROD_KEY)] == ["b1", "b2", "b3"]
    assert store.exported()["DEPLOYED_VERSION"] == store.versions(PROD_KEY)[-1]["VersionId"]


def test_a_rollback_after_the_build_version_expired_copies_the_environment_s_own_copy(
    store: Store,
) -> None:
    """A stage rollback runs the job with the earlier execution's build version; builds have
    expired it since (staging built often), but prod's key still keeps its copy."""
    store.build("b1")
    assert store.mark("b1").returncode == 0
    store.build("b2")
    assert store.mark("b2").returncode == 0
    store.expire(BUILD_KEY, "b1")
    done = store.mark("b1")
    assert done.returncode == 0, done.stderr
    versions = store.versions(PROD_KEY)
    assert [v["Metadata"][META] for v in versions] == ["b1", "b2", "b1"]
    assert store.exported()["DEPLOYED_VERSION"] == versions[-1]["VersionId"]
    assert ["s3api", "list-object-versions"] in store.calls()


def test_a_package_gone_everywhere_fails_before_the_stack_changes(store: Store) -> None:
    store.build("b2")
    done = store.mark("b1")
    assert done.returncode == 1
    assert "package version b1 of quotes-package.zip has expired" in done.stderr
    assert "release a newer build" in done.stderr
    assert store.versions(PROD_KEY) == []
    assert store.exported() == {}


def test_an_error_other_than_not_found_fails_the_job(tmp_path: Path) -> None:
    """AccessDenied is not "no copy yet": the job must not go on to copy or search."""
    stub = tmp_path / "aws"
    stub.write_text(
        '#!/bin/bash\necho "$*" >> "$CALLS"\n'
        'echo "An error occurred (403) when calling the HeadObject operation: Forbidden" >&2\n'
        "exit 254\n"
    )
    stub.chmod(0o755)
    done = subprocess.run(
        ["bash", "-c", script(mark_deployed_package_buildspec())],
        cwd=tmp_path,
        env={
            "PATH": f"{tmp_path}:{os.environ['PATH']}",
            "CALLS": str(tmp_path / "calls"),
            "PACKAGE_BUCKET": BUCKET,
            "PACKAGE_KEY": BUILD_KEY,
            "PACKAGE_VERSION": "b1",
            "DEPLOYED_KEY": PROD_KEY,
            "AWS_REGION": PIPELINE_REGION,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "(403)" in done.stderr
    assert (tmp_path / "calls").read_text().count("\n") == 1


def _calls_on(store: Store, bucket: str) -> list[list[str]]:
    return [
        c for c in store.full_calls() if "--bucket" in c and c[c.index("--bucket") + 1] == bucket
    ]


def test_the_job_calls_the_pipelines_region_for_its_own_store(store: Store) -> None:
    store.build("b1")
    assert store.mark("b1").returncode == 0
    for call in _calls_on(store, BUCKET):
        assert "--region" not in call or call[call.index("--region") + 1] == PIPELINE_REGION


@pytest.fixture
def regional(tmp_path: Path) -> Store:
    """Production in another region: its key in that region's package store."""
    return Store(tmp_path, target="quotes-packages-us-east-1", region="us-east-1")


def test_another_regions_copy_lands_in_its_store_every_call_there_sent_there(
    regional: Store,
) -> None:
    regional.build("b1")
    done = regional.mark("b1")
    assert done.returncode == 0, done.stderr
    (copy,) = regional.versions(PROD_KEY)
    assert copy["Metadata"] == {META: "b1"}
    assert regional.exported() == {"DEPLOYED_VERSION": copy["VersionId"]}
    there = _calls_on(regional, "quotes-packages-us-east-1")
    assert there[-1][:3] == ["aws", "s3api", "copy-object"]
    assert all(c[c.index("--region") + 1] == "us-east-1" for c in there)
    (copied,) = [c for c in there if c[2] == "copy-object"]
    assert copied[copied.index("--copy-source") + 1] == f"{BUCKET}/{BUILD_KEY}?versionId=b1"
    # The build key is read where the build put it, in the job's own region.
    here = _calls_on(regional, BUCKET)
    assert here and all("--region" not in c for c in here)
    assert json.loads(regional.state.read_text()).get(f"{BUCKET}/{PROD_KEY}") is None


def test_another_regions_rollback_copies_that_regions_own_copy(regional: Store) -> None:
    regional.build("b1")
    assert regional.mark("b1").returncode == 0
    regional.build("b2")
    assert regional.mark("b2").returncode == 0
    regional.expire(BUILD_KEY, "b1")
    done = regional.mark("b1")
    assert done.returncode == 0, done.stderr
    versions = regional.versions(PROD_KEY)
    assert [v["Metadata"][META] for v in versions] == ["b1", "b2", "b1"]
    (listed,) = [c for c in regional.full_calls() if c[2] == "list-object-versions"]
    assert listed[listed.index("--bucket") + 1] == "quotes-packages-us-east-1"
    source = [c for c in regional.full_calls() if c[2] == "copy-object"][-1]
    assert source[source.index("--copy-source") + 1].startswith(
        f"quotes-packages-us-east-1/{PROD_KEY}?versionId="
    )


def test_the_job_exports_the_version_the_stack_deploys() -> None:
    spec = mark_deployed_package_buildspec()
    assert spec["env"] == {"shell": "bash", "exported-variables": ["DEPLOYED_VERSION"]}
