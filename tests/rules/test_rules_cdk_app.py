"""A careless CDK app (the seeds' mistakes) synthesized for real gets the seeds' findings."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conveyor.rules import check_paths

APP = Path(__file__).parent / "fixtures" / "cdk" / "careless_app.py"

pytestmark = [
    pytest.mark.synth,
    pytest.mark.skipif(importlib.util.find_spec("aws_cdk") is None, reason="aws-cdk-lib missing"),
]


def test_careless_cdk_app_gets_the_seed_findings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_VALIDATION": "false",
    }
    subprocess.run(
        [sys.executable, str(APP), str(tmp_path / "cdk.out")],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    result = check_paths([tmp_path / "cdk.out"])
    assert result.errors == []
    found = {(f.rule, f.resource.rstrip("0123456789ABCDEF")) for f in result.findings}
    expected = {
        ("CV001", "Artifacts"),  # FM01 public access
        ("CV003", "Artifacts"),  # FM02 artifact key
        ("CV005", "Artifacts"),  # FM03 lifecycle
        ("CV006", "Artifacts"),  # FM04 TLS
        ("CV009", "Artifacts"),  # FM06 hard-coded bucket name
        ("CV020", "Repo"),  # FM10
        ("CV030", "Build"),  # FM20 privileged
        ("CV031", "Build"),  # FM21 image
        ("CV043", "Build"),  # FM30 plaintext secret
        ("CV052", "Build"),  # FM41 ECR push permission
        ("CV060", "Pipeline"),  # FM50 GitHub OAuth
        ("CV042", "Pipeline"),  # FM30 token literal
        ("CV080", "Pipeline"),  # FM70 notifications
        ("CV081", "Alerts"),  # FM71 subscription
    }
    assert expected - found == set()
    assert not [f for f in result.findings if f.rule == "CV036"]  # CDK tokens are not literals
