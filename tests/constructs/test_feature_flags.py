"""The cached recommended feature flags are aws-cdk-lib's own, for the installed version."""

from __future__ import annotations

import tarfile
from importlib.metadata import version
from typing import Any

import pytest

from conveyor.constructs import feature_flags, recommended_flags


def test_the_cache_is_the_installed_aws_cdk_libs_flags() -> None:
    assert version("aws-cdk-lib") == recommended_flags.AWS_CDK_LIB_VERSION, (
        "aws-cdk-lib changed: run .venv/bin/python -m conveyor.constructs.feature_flags"
    )
    assert feature_flags.flags_in_tarball() == recommended_flags.FLAGS


def test_synthesis_reads_the_cache_not_the_tarball(monkeypatch: pytest.MonkeyPatch) -> None:
    feature_flags.recommended_feature_flags.cache_clear()
    opened: list[str] = []
    real_open = tarfile.open

    def recording_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(str(args[0]))
        return real_open(*args, **kwargs)

    monkeypatch.setattr(tarfile, "open", recording_open)
    try:
        assert feature_flags.recommended_feature_flags() == recommended_flags.FLAGS
        assert opened == []
    finally:
        feature_flags.recommended_feature_flags.cache_clear()


def test_another_aws_cdk_lib_version_reads_its_own_tarball(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feature_flags.recommended_feature_flags.cache_clear()
    monkeypatch.setattr(recommended_flags, "AWS_CDK_LIB_VERSION", "2.0.0")
    monkeypatch.setattr(feature_flags, "flags_in_tarball", lambda: {"@aws-cdk/x:y": True})
    try:
        assert feature_flags.recommended_feature_flags() == {"@aws-cdk/x:y": True}
    finally:
        feature_flags.recommended_feature_flags.cache_clear()


def test_the_generated_source_round_trips() -> None:
    namespace: dict[str, object] = {}
    source = feature_flags.cache_source({"@aws-cdk/a:b": ["aws"], "c": False}, "9.9.9")
    exec(source, namespace)  # noqa: S102 - the generator's own output
    assert namespace["AWS_CDK_LIB_VERSION"] == "9.9.9"
    assert namespace["FLAGS"] == {"@aws-cdk/a:b": ["aws"], "c": False}
