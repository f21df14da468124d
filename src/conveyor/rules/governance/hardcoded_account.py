"""Account id or region hard-coded in ARNs, ECR hosts, CDK asset buckets, buildspecs or
environment variables.

Looks at every string in a resource's Properties (including Fn::Sub text and inline
buildspecs) for a 12-digit account id in an ARN or ECR registry host, and a region in an ARN
(whatever its account part: ``${AWS::AccountId}`` included), a service host, ``--region`` or a
whole environment variable value (Lambda, ECS, CodeBuild, and the JSON of a CodePipeline
action's ``EnvironmentVariables``). ``Mappings`` are not judged: region maps are the sanctioned
place for per-region literals. An ARN that Fn::Join splits into pieces is read as the string
it joins (references as placeholders): CDK writes its environment's region that way in every
stack bound to a region, which `Stack.of(x).region` / `Aws.REGION` (or conveyor's synth, which
writes the stack's own region as AWS::Region) avoid. ARNs AWS publishes for everybody (the
``AmazonIpSpaceChanged`` topic) can only be written literally and are not reported, nor is
us-east-1 in a CloudFront distribution's certificate, web ACL or Lambda@Edge ARN (CloudFront
takes them from that region only).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import chain

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import intrinsic_name, render, strings
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

_REGION = r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-[a-z]+-\d"
PATTERN = lazy(
    r"arn:(?:aws[\w-]*|\$\{AWS::Partition\}):(?P<arn_service>[\w-]*):(?P<arn_region>"
    + _REGION
    # The account part may be a literal, empty, or a placeholder: a region before
    # ${AWS::AccountId} is still hard-coded.
    + r")?:(?:(?P<arn_account>\d{12})|\$\{[^}]*\})?:"
    r"|(?P<ecr_account>\d{12})\.dkr\.ecr\.(?P<ecr_region>" + _REGION + r")"
    r"|\.(?P<host_region>" + _REGION + r")\.amazonaws\.com"
    r"|--region[ =](?P<flag_region>" + _REGION + r")\b"
    # The CDK bootstrap bucket of one account (its file assets, such as Lambda code): a stack
    # bound to an account gets it spelt out, and deploys nowhere else (issue 10).
    r"|\bcdk-[a-z0-9]+-assets-(?P<asset_account>\d{12})-"
)
# Resources AWS publishes in one account and region for everybody to use: their literal ARN is
# the only way to name them. AmazonIpSpaceChanged (subscribed to by functions that track AWS's
# IP ranges): https://docs.aws.amazon.com/vpc/latest/userguide/subscribe-notifications.html
AWS_PUBLISHED = ("arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged",)
# What a CloudFront distribution names lives in us-east-1 whatever the stack's region: its ACM
# certificate, its WAF web ACL and its Lambda@Edge functions. There the literal region is the
# only correct one (${AWS::Region} breaks every other region); a literal account still is not.
# https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
# https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-the-edge.html
CLOUDFRONT_REGION = "us-east-1"
CLOUDFRONT_SERVICES = frozenset({"acm", "wafv2", "lambda"})
_WHOLE_REGION = lazy(_REGION)
# The screen before any walk: a resource whose strings and numbers (the relations index
# gathers them while it walks the properties for references; joined by a character no match
# can span) hold no run of 12 digits and no region is clean: every match below lies within one
# string, or a number a Fn::Join renders. Both tests are C scans of the whole text (a region
# needs "-<letters>-<digit>", a literal-led search; digits are mapped to 0 and the run of
# twelve found as a substring): ten times faster than one regular expression trying both at
# every character, which was a tenth of a check of the public corpus. (Encoding each
# resource's properties as JSON for this screen was a twentieth of checking a 1,000-resource
# plan: benchmarks/check_terraform_plan.py.)
_REGION_HINT = lazy(r"-[a-z]+-\d")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
# Where environment variables live: Lambda/SAM Environment.Variables, ECS containers'
# Environment, CodeBuild Environment.EnvironmentVariables, CodePipeline action configuration.
_ENVIRONMENT_KEYS = frozenset({"Variables", "Environment", "EnvironmentVariables"})


def _environment_region(path: tuple[str | int, ...], text: str) -> str | None:
    """A region that is the whole value of an environment variable."""
    if not _ENVIRONMENT_KEYS.intersection(str(p) for p in path):
        return None
    if _WHOLE_REGION.fullmatch(text):
        return text
    if path and path[-1] == "EnvironmentVariables":
        # CodePipeline's CodeBuild action takes them as a JSON string of name/value/type.
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html
        try:
            variables = json.loads(text)
        except ValueError:
            return None
        for variable in variables if isinstance(variables, list) else []:
            value = variable.get("value") if isinstance(variable, dict) else None
            if isinstance(value, str) and _WHOLE_REGION.fullmatch(value):
                return value
    return None


def _literal(path: tuple[str | int, ...], text: str, cloudfront: bool = False) -> str | None:
    """What the text hard-codes ("account N and region R"), or None. ``cloudfront``: the text
    is a CloudFront distribution's, whose certificate, web ACL and edge functions must be in
    us-east-1."""
    for match in PATTERN.finditer(text):
        if any(text.startswith(arn, match.start()) for arn in AWS_PUBLISHED):
            continue
        account = (
            match.group("arn_account") or match.group("ecr_account") or match.group("asset_account")
        )
        region = (
            match.group("arn_region")
            or match.group("ecr_region")
            or match.group("host_region")
            or match.group("flag_region")
        )
        if (
            cloudfront
            and region == CLOUDFRONT_REGION
            and match.group("arn_service") in CLOUDFRONT_SERVICES
        ):
            region = None
        if account or region:
            return " and ".join(
                x
                for x in (
                    f"account {account}" if account else "",
                    f"region {region}" if region else "",
                )
                if x
            )
    region = _environment_region(path, text)
    return f"region {region}" if region else None


def _joined(value: object) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each Fn::Join in value, as the string it joins (references as ${...} placeholders)."""
    stack: list[tuple[tuple[str | int, ...], object]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            if intrinsic_name(node) == "Fn::Join":
                text = render(node)
                if text is not None:
                    yield path, text
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node))


def _may_hard_code(text: str) -> bool:
    r"""``re.search(r"\d{12}|" + _REGION, text)``, faster."""
    if _REGION_HINT.search(text) and _WHOLE_REGION.search(text):
        return True
    digits = text.encode("ascii", "backslashreplace").translate(_DIGITS_TO_ZERO)
    return b"000000000000" in digits


def _all_scalars(ctx: Context) -> str:
    return "\0".join(chain.from_iterable(ctx.relations.scalars.values()))


def check(res: Resource, ctx: Context) -> Iterable[Hit]:
    # No properties, no literal (and no text to encode: many resources have none).
    # Screened once for the whole template first (the strings and numbers of every resource,
    # joined by the same separator no match can span): most templates hard-code nothing, and
    # a screen per resource costs a join and three C calls each (benchmarks/
    # check_terraform_plan.py: CV036 was 8.6M of a 1,000-resource plan's 346M instructions).
    # A function, not a generator, until a resource needs a look: the rule reads every
    # resource, and a generator's creation and end cost more than these two tests.
    if not res.properties or not ctx.memo("CV036.any", lambda: _may_hard_code(_all_scalars(ctx))):
        return ()
    return _hits(res, ctx)


def _hits(res: Resource, ctx: Context) -> Iterator[Hit]:
    scalars = ctx.relations.scalars.get(res.logical_id, ())
    if not _may_hard_code("\0".join(scalars)):
        return
    for path, text in sorted(
        # Principals name other parties' accounts (AWS service accounts such as the ELB log
        # delivery account), which are meant to be literal; so do NotPrincipal's (the parties a
        # Deny spares).
        (
            (p, t)
            for p, t in [*strings(res.properties), *_joined(res.properties)]
            if "Principal" not in p and "NotPrincipal" not in p
        ),
        key=lambda p: [str(x) for x in p[0]],
    ):
        what = _literal(path, text, res.type == "AWS::CloudFront::Distribution")
        if what:
            yield Hit(
                res.logical_id,
                "Properties." + ".".join(str(p) for p in path),
                f"{what} hard-coded; use ${{AWS::AccountId}} / ${{AWS::Region}} so the template "
                "deploys anywhere",
            )
            return


RULE = Rule(
    id="CV036",
    title="Account id or region hard-coded",
    severity=Severity.MEDIUM,
    resource_types=("*",),
    failure_modes=("FM25",),
    why="S1 and S4: account id and region were hard-coded in the buildspec and ARNs; the "
    "pipeline was not portable across accounts and environments.",
    fix_cloudformation="Write "
    "!Sub 'arn:${AWS::Partition}:...:${AWS::Region}:${AWS::AccountId}:...' "
    "and pass AWS_ACCOUNT_ID / AWS_DEFAULT_REGION to builds as environment variables.",
    fix_cdk="Use Stack.of(self).account / .region (tokens), or Aws.ACCOUNT_ID / Aws.REGION.",
    fix_conveyor="Nothing to write: conveyor never writes account ids or regions into templates.",
    check=check,
)
