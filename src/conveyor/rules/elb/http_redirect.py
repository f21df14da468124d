"""HTTP listener of an internet-facing Application Load Balancer that serves the application
instead of redirecting to HTTPS.

Judged: listeners whose protocol is HTTP and whose load balancer this template defines as an
internet-facing ALB (CloudFormation's defaults for Scheme and Type). A listener passes when none
of its default actions, and none of the actions of listener rules attached to it, forwards to
targets or authenticates (a login over plain HTTP hands credentials to anyone on the path):
redirects (to HTTPS) and fixed responses are fine. Not judged: internal load balancers, and
load balancers defined in another stack (their scheme is not visible).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.elb.listener import (
    LISTENER,
    actions,
    internet_facing_application,
    load_balancer,
    protocols,
)
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

# Action types that hand the request (or a login) to something behind the listener.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#rule-action-types
SERVING = frozenset({"forward", "authenticate-cognito", "authenticate-oidc"})


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if "HTTP" not in protocols(res, ctx):
        return
    balancer = load_balancer(res, ctx)
    if balancer is None or not internet_facing_application(balancer, ctx):
        return
    for owner, path, action in actions(res, ctx):
        kind = action.get("Type")
        if not isinstance(kind, str) or kind.lower() not in SERVING:
            continue
        where = "" if owner == res.logical_id else f" (listener rule {owner})"
        port = get(res.properties, "Port")
        yield Hit(
            res.logical_id,
            path if owner == res.logical_id else "Properties",
            f"plain HTTP listener{f' on port {port}' if port is not None else ''} of internet-"
            f"facing load balancer {balancer.logical_id} answers with a {kind.lower()} action"
            f"{where} instead of redirecting to HTTPS",
        )
        return


RULE = Rule(
    id="CV105",
    title="Internet-facing HTTP listener does not redirect to HTTPS",
    severity=Severity.MEDIUM,
    resource_types=(LISTENER,),
    failure_modes=("FM115",),
    why="Issue 15: the payments example served production on plain HTTP port 80; anyone on the "
    "path could read and change its traffic, and no browser warned.",
    fix_cloudformation="Serve the application on an HTTPS listener (Certificates, SslPolicy) and "
    "give the HTTP listener one default action: Type redirect, RedirectConfig {Protocol: HTTPS, "
    "Port: '443', StatusCode: HTTP_301}.",
    fix_cdk="alb.add_listener('Https', port=443, certificates=[...], ssl_policy=...) and "
    "alb.add_redirect(source_port=80, target_port=443)",
    fix_conveyor="Give the service a domain: create.domain: {name: api.example.com, "
    "hosted_zone_id: Z...}; plain HTTP in production only with plain_http: {reason: ...}.",
    check=check,
)
