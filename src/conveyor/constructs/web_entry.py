"""How requests reach a web service's tasks: security groups, the load balancer, TLS, listeners.

A web service (ecs_service.FargateWebService) is the only kind with a load balancer; a backend
is reached through Service Connect and a worker through its queue (ecs_task: what they share).
Everything here is created in the caller's scope, so construct ids, and therefore logical ids,
are the service's own: moving this code out of the service changed no template.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnParameter, Fn
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults, ecs_task
from conveyor.constructs.naming import Naming
from conveyor.spec.models import CreateService, Domain

# The test listener of blue/green deployments serves the new version before users get it.
TEST_PORT = 9000


@dataclass(frozen=True)
class WebEntry:
    """The load balancer in front of a web service and what its listeners share."""

    alb: elbv2.ApplicationLoadBalancer
    # Blue/green adds the test listener's clients to it once the listener exists.
    alb_group: ec2.SecurityGroup
    service_group: ec2.SecurityGroup
    https: bool
    certificates: list[elbv2.IListenerCertificate] | None
    # Why a plain HTTP listener is accepted (None with TLS): conveyor check shows it (CV105).
    plain_http_reason: str | None
    # The domain's address when the service has one, else the load balancer's.
    url: str
    load_balancer_url: str

    @property
    def port(self) -> int:
        return 443 if self.https else 80

    @property
    def scheme(self) -> str:
        return "https" if self.https else "http"

    @property
    def test_url(self) -> str:
        """Where a validation hook reaches the new version before production traffic does."""
        return f"{self.scheme}://{self.alb.load_balancer_dns_name}:{TEST_PORT}"

    def listener(
        self,
        id: str,
        *,
        port: int,
        default_target_groups: list[elbv2.IApplicationTargetGroup] | None = None,
        default_action: elbv2.ListenerAction | None = None,
    ) -> elbv2.ApplicationListener:
        """A listener of the service's traffic (production or test): the TLS policy with
        HTTPS, the reasoned CV105 suppression without. open=False: the load balancer's security
        group (_security_groups, admit_validation) says who may connect; CDK must not add
        0.0.0.0/0 on its own (cdk-nag EC23)."""
        listener = self.alb.add_listener(
            id,
            port=port,
            protocol=(
                elbv2.ApplicationProtocol.HTTPS if self.https else elbv2.ApplicationProtocol.HTTP
            ),
            open=False,
            certificates=self.certificates,
            ssl_policy=defaults.TLS_POLICY if self.https else None,
            default_target_groups=default_target_groups,
            default_action=default_action,
        )
        _suppress_plain_http(listener, self.plain_http_reason)
        return listener


@dataclass(frozen=True)
class BlueGreenListeners:
    """What both blue/green strategies put behind the load balancer: two target groups and
    the production and test listeners whose traffic moves between them."""

    blue: elbv2.ApplicationTargetGroup
    green: elbv2.ApplicationTargetGroup
    production: elbv2.ApplicationListener
    test: elbv2.ApplicationListener


def web_entry(
    scope: Construct,
    settings: CreateService,
    *,
    vpc: ec2.IVpc,
    naming: Naming,
    env_name: str,
    access_logs: s3.IBucket,
) -> WebEntry:
    """Security groups, the load balancer with its access logs, the certificate, the HTTP to
    HTTPS redirect and the domain's record. The traffic listeners come later, with the
    deployment strategy that decides their target groups (ecs_service)."""
    https = settings.https
    alb_group, service_group = _security_groups(scope, settings, vpc=vpc, https=https)
    alb = elbv2.ApplicationLoadBalancer(
        scope,
        "LoadBalancer",
        vpc=vpc,
        # public: false: scheme internal, in the private subnets; its DNS name resolves to
        # private addresses, reachable from the VPC (and networks routed to it) only.
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-scheme
        internet_facing=settings.public,
        load_balancer_name=naming.name("alb", env_name, max_length=32),
        security_group=alb_group,
        drop_invalid_header_fields=True,
        vpc_subnets=ec2.SubnetSelection(
            subnet_type=(
                ec2.SubnetType.PUBLIC if settings.public else ec2.SubnetType.PRIVATE_WITH_EGRESS
            )
        ),
    )
    alb.log_access_logs(access_logs, prefix=f"alb/{naming.name('alb', env_name)}")
    certificates = _certificates(scope, settings, env_name) if https else None
    if https:
        # prevents FM115: port 80 answers with a permanent redirect to HTTPS, never the app.
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#redirect-actions
        alb.add_listener(
            "HttpRedirect",
            port=80,
            protocol=elbv2.ApplicationProtocol.HTTP,
            open=False,
            default_action=elbv2.ListenerAction.redirect(
                protocol="HTTPS", port="443", permanent=True
            ),
        )
    if settings.domain is not None and settings.domain.hosted_zone_id is not None:
        _alias_record(scope, settings.domain, alb)
    load_balancer_url = f"{'https' if https else 'http'}://{alb.load_balancer_dns_name}"
    return WebEntry(
        alb=alb,
        alb_group=alb_group,
        service_group=service_group,
        https=https,
        certificates=certificates,
        plain_http_reason=None if https else _plain_http_reason(settings, env_name),
        url=(
            f"https://{settings.domain.name}" if settings.domain is not None else load_balancer_url
        ),
        load_balancer_url=load_balancer_url,
    )


def admit_validation(entry: WebEntry, settings: CreateService, vpc: ec2.IVpc) -> None:
    """The test listener serves unreleased versions: never to the world (cdk-nag EC23), only
    to the addresses the validation hook calls from."""
    for cidr in _test_cidrs(settings, vpc):
        entry.alb_group.add_ingress_rule(
            ec2.Peer.ipv4(cidr), ec2.Port.tcp(TEST_PORT), "Validation of the new version"
        )


def _security_groups(
    scope: Construct, settings: CreateService, *, vpc: ec2.IVpc, https: bool
) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
    """The load balancer's group admits the service's clients; the tasks' group admits the
    load balancer alone, so no request reaches a task around it."""
    alb_group = ec2.SecurityGroup(
        scope,
        "AlbSecurityGroup",
        vpc=vpc,
        description=(
            "Public entry to the load balancer"
            if settings.public
            else "Entry to the internal load balancer from the VPC"
        ),
    )
    service_group = ec2.SecurityGroup(
        scope, "ServiceSecurityGroup", vpc=vpc, description="Tasks, reachable from the ALB only"
    )
    # An internal load balancer (public: false) admits the VPC's own range only.
    clients = ec2.Peer.any_ipv4() if settings.public else ec2.Peer.ipv4(ecs_task.vpc_cidr(settings))
    alb_group.add_ingress_rule(
        clients,
        ec2.Port.tcp(443 if https else 80),
        "Web entry point of the service" + ("" if settings.public else " inside the VPC"),
    )
    if https:
        alb_group.add_ingress_rule(clients, ec2.Port.tcp(80), "Plain HTTP, redirected to HTTPS")
    if settings.public:
        acknowledgements.acknowledge(
            alb_group,
            "EC23",
            "the load balancer is the service's public entry point; the tasks accept "
            "traffic from the load balancer only",
        )
    service_group.add_ingress_rule(
        alb_group, ec2.Port.tcp(settings.port), "Load balancer to the application port"
    )
    return alb_group, service_group


def _plain_http_reason(settings: CreateService, env_name: str) -> str:
    """Without TLS (outside production, or production's reasoned opt-out) conveyor check
    reports the plain HTTP listeners (CV105); the suppression carries this reason."""
    if settings.plain_http is not None:
        return settings.plain_http.reason
    return (
        f"{env_name} is not production and names no domain: plain HTTP is "
        "accepted outside production (conveyor.yaml create.domain serves HTTPS)"
    )


def _certificates(
    scope: Construct, settings: CreateService, env_name: str
) -> list[elbv2.IListenerCertificate]:
    """The HTTPS listeners' certificate: the spec's by ARN, or one ACM issues for the
    domain once the validation record CloudFormation writes into the hosted zone resolves
    (ACM certificates are free; the stack waits for issuance).
    https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-certificatemanager-certificate.html"""
    domain = settings.domain
    arn = domain.certificate_arn if domain is not None else settings.certificate_arn
    if arn is not None:
        # A parameter, defaulting to the spec's ARN: the certificate lives in one account
        # and region, and the template stays deployable elsewhere (FM25).
        certificate = CfnParameter(
            scope,
            "CertificateArn",
            type="String",
            default=arn,
            description=f"ACM certificate of the {env_name} load balancer",
        )
        return [
            acm.Certificate.from_certificate_arn(scope, "Certificate", certificate.value_as_string)
        ]
    assert domain is not None and domain.hosted_zone_id is not None
    zone = route53.HostedZone.from_hosted_zone_id(scope, "Zone", domain.hosted_zone_id)
    issued = acm.Certificate(
        scope,
        "Certificate",
        domain_name=domain.name,
        validation=acm.CertificateValidation.from_dns(zone),
    )
    return [elbv2.ListenerCertificate.from_certificate_manager(issued)]


def _alias_record(scope: Construct, domain: Domain, alb: elbv2.ApplicationLoadBalancer) -> None:
    """The domain's A record, an alias to the load balancer (alias queries to AWS
    resources are free). L1: the zone is known by id only, and CDK's record constructs
    need its name. https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html"""
    route53.CfnRecordSet(
        scope,
        "AliasRecord",
        hosted_zone_id=domain.hosted_zone_id,
        name=domain.name,
        type="A",
        alias_target=route53.CfnRecordSet.AliasTargetProperty(
            dns_name=alb.load_balancer_dns_name,
            hosted_zone_id=alb.load_balancer_canonical_hosted_zone_id,
            evaluate_target_health=True,
        ),
    )


def _test_cidrs(settings: CreateService, vpc: ec2.IVpc) -> list[str]:
    given = settings.test_cidrs
    if not settings.public:
        # An internal load balancer: the hook in the VPC calls it from a private address.
        return [*given, ecs_task.vpc_cidr(settings)]
    if given:
        return given
    # A VPC conveyor created: its NAT gateways' addresses, where in-VPC hooks call from.
    cidrs = []
    for subnet in vpc.public_subnets:
        eip = subnet.node.try_find_child("EIP")
        if isinstance(eip, ec2.CfnEIP):
            cidrs.append(Fn.join("", [eip.attr_public_ip, "/32"]))
    return cidrs


def _suppress_plain_http(listener: elbv2.ApplicationListener, reason: str | None) -> None:
    """A plain HTTP listener conveyor creates on purpose, with the reason conveyor check shows
    (CV105): outside production, or production's plain_http opt-out."""
    if reason is None:
        return
    resource = listener.node.default_child
    assert isinstance(resource, elbv2.CfnListener)
    resource.add_metadata("conveyor", {"suppress": [{"rule": "CV105", "reason": reason}]})
