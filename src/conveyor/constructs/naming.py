"""One naming pattern for every named resource: `{app}-{type}-{env}[-{suffix}]` (FM06, FM81).

S3 bucket names are global across all AWS accounts, so conveyor never sets them: CloudFormation
derives a unique name from the stack. Every other name is unique per account and region, and the
spec's `suffix` keeps two copies of the same pipeline (a branch, a pull request) apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Naming:
    app: str
    suffix: str = ""

    def name(self, kind: str, env: str | None = None, *, max_length: int = 64) -> str:
        parts = [self.app, kind]
        if env:
            parts.append(env)
        if self.suffix:
            parts.append(self.suffix)
        result = "-".join(parts)
        if len(result) > max_length:
            raise ValueError(
                f"the name {result!r} is longer than {max_length} characters; "
                "shorten app, the environment name or suffix in conveyor.yaml"
            )
        return result

    def path(self, kind: str, env: str | None = None) -> str:
        """A path-style name for log groups and parameters: /conveyor/{app}/{kind}[/{env}]."""
        parts = ["", "conveyor", self.app + (f"-{self.suffix}" if self.suffix else ""), kind]
        if env:
            parts.append(env)
        return "/".join(parts)


def camel(name: str) -> str:
    """`payments-prod` -> `PaymentsProd`: construct ids and CloudFormation logical-id parts."""
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
