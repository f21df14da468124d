"""Plans for diagram and cost tests: a richer one than the examples give today (parallel checks,
a gate, validation, approval), built by hand so the tests do not depend on the planner."""

from __future__ import annotations

from conveyor.plan import Action, Plan, Stage


def payments_plan() -> Plan:
    return Plan(
        app="payments",
        stages=(
            Stage(
                "Source",
                (Action("Source", "source", "S3", uses=("S3 source bucket",), minutes=0.5),),
            ),
            Stage(
                "Build",
                (
                    Action(
                        "Build",
                        "build",
                        "CodeBuild",
                        uses=("CodeBuild project", "ECR repository"),
                        minutes=4,
                        compute="large",
                    ),
                ),
            ),
            Stage(
                "Checks",
                (
                    Action(
                        "unit",
                        "test",
                        "CodeBuild",
                        uses=("CodeBuild unit",),
                        minutes=3,
                        compute="small",
                    ),
                    Action(
                        "trivy",
                        "scan",
                        "CodeBuild",
                        uses=("CodeBuild trivy",),
                        minutes=2,
                        compute="small",
                    ),
                    Action(
                        "ScanGate",
                        "gate",
                        "Lambda",
                        run_order=2,
                        uses=('Lambda "scan gate"',),
                        minutes=0.5,
                    ),
                ),
            ),
            Stage(
                "Deploy-prod",
                (
                    Action("Approve", "approval", "Manual", uses=("SNS topic",)),
                    Action(
                        "Deploy",
                        "deploy",
                        "CodeDeployToECS",
                        run_order=2,
                        uses=("Fargate service + ALB (prod)",),
                        minutes=5,
                    ),
                ),
                environment="prod",
            ),
        ),
        resources=("S3 artifact bucket", "KMS key"),
    )
