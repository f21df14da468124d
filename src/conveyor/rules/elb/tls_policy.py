"""HTTPS (or TLS) listener whose security policy accepts TLS 1.0 or 1.1, or that names none.

A listener without SslPolicy gets ELBSecurityPolicy-2016-08 when CloudFormation, the CLI or the
CDK create it, and that policy negotiates TLS 1.0 and 1.1 (deprecated by RFC 8996).
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
ELB's policy names carry their lowest TLS version (ELBSecurityPolicy-TLS13-1-2-2021-06,
ELBSecurityPolicy-FS-1-2-Res-2020-10, ELBSecurityPolicy-TLS-1-2-Ext-2018-06 begin at TLS 1.2);
a name without -1-2- or -1-3- (ELBSecurityPolicy-2016-08, -TLS-1-1-2017-01,
-TLS13-1-0-2021-06, -FS-2018-06) accepts an older version. A policy chosen at deploy time
(a parameter without default, a value from another stack) is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.elb.listener import LISTENER, protocols
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import ABSENT, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

CURRENT = lazy(r"-1-[23]-")
DEFAULT_POLICY = "ELBSecurityPolicy-2016-08"


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if not protocols(res, ctx) & {"HTTPS", "TLS"}:
        return
    if "SslPolicy" not in res.properties:
        yield Hit(
            res.logical_id,
            "Properties",
            f"no SslPolicy: the listener gets {DEFAULT_POLICY}, which accepts TLS 1.0 and 1.1",
        )
        return
    for value in possible(res.properties["SslPolicy"], ctx.params):
        if value is ABSENT:
            value = DEFAULT_POLICY
        if isinstance(value, str) and not CURRENT.search(value):
            yield Hit(
                res.logical_id,
                "Properties.SslPolicy",
                f"SslPolicy {value} accepts TLS versions older than 1.2",
            )
            return


RULE = Rule(
    id="CV106",
    title="HTTPS listener accepts TLS 1.0 or 1.1",
    severity=Severity.MEDIUM,
    resource_types=(LISTENER,),
    failure_modes=("FM115",),
    why="Issue 15: a listener created without SslPolicy (CDK's SslPolicy.RECOMMENDED is the "
    "same 2016-08 policy) still negotiates TLS 1.0 and 1.1, which RFC 8996 deprecates and "
    "compliance scans report.",
    fix_cloudformation="SslPolicy: ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09 (the ELB console "
    "default) or ELBSecurityPolicy-TLS13-1-2-2021-06.",
    fix_cdk="listener ssl_policy=elbv2.SslPolicy.TLS13_12_RES_PQ (or RECOMMENDED_TLS)",
    fix_conveyor="Nothing to write: conveyor's HTTPS listeners use "
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09.",
    check=check,
)
