"""The UpdatePipeline stage: right after Source, the pipeline synthesizes the source revision's
conveyor.yaml with the conveyor version it was made with, and updates its own stack before
anything deploys.

Why the new definition takes effect: when a pipeline's definition changes while an execution
runs, CodePipeline cancels that execution ("Cancelled: The pipeline's definition was updated
before the pipeline execution could be completed",
https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html), and
with `RestartExecutionOnUpdate` CloudFormation starts a new execution once it has updated the
pipeline ("Indicates whether to rerun the CodePipeline pipeline after you update it",
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codepipeline-pipeline.html).
The new execution runs UpdatePipeline again, finds nothing to change (CloudFormation answers "no
updates" and the action succeeds) and carries on with the new stages.

Environments in other regions: before the pipeline's own stack, one CloudFormation action per
other region updates that region's support stack (constructs/regional_support.py: its artifact
store, image repository, package store and the CloudFormation role of each environment there),
in that region (the action's `region`, run from the region's artifact store that stack itself
holds: https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-create-cross-region.html),
with a role made in that stack for that stack (RegionalSupport.finish). So a change there (say
production's scaling, which widens its CloudFormation role) is applied by the pipeline before
the release that needs it. That stack must exist before the pipeline that names its store:
`conveyor deploy` creates it the first time. CDK Pipelines relies on
the same two facts (aws-cdk `pipelines/lib/codepipeline/codepipeline.ts`: "restartExecutionOnUpdate:
true ... necessary to make self-mutation work"). An update that leaves the pipeline resource
itself unchanged (a new alarm, a handler's code) does not cancel anything: the execution goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Aws, CfnCapabilities, CfnParameter, CfnResource, Stack, Token
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

import conveyor
from conveyor.constructs import acknowledgements
from conveyor.constructs.cfn_permissions import PERMISSIONS
from conveyor.constructs.cfn_scopes import grant_owned_calls, scoped, tag_conditions
from conveyor.constructs.cloudformation_role import (
    KEY_SCOPED_ACTIONS,
    SERVICE_LINKED_ACTIONS,
    grant_key_calls,
    grant_service_linked_roles,
    stack_alias_names,
)
from conveyor.constructs.codebuild_job import CodeBuildJob
from conveyor.constructs.naming import Naming, camel
from conveyor.constructs.regional_support import KEY_READ, RegionalSupport
from conveyor.deploy.cdk_cli import CDK_PACKAGE
from conveyor.spec.models import Environment, Spec

STAGE_NAME = "UpdatePipeline"
SYNTH_ARTIFACT = "Synth"
HANDLERS_ARTIFACT = "Handlers"
# Where the build writes, relative to the checkout (CodeBuild's working directory).
SYNTH_DIR = ".conveyor/synth"
HANDLERS_DIR = ".conveyor/handlers"
# The qualifier `cdk bootstrap` uses unless told otherwise; the CDK's DefaultStackSynthesizer
# names the bootstrap roles and bucket with it.
# https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
BOOTSTRAP_QUALIFIER = "hnb659fds"

# Copies the handlers package (what every handler function runs, `notify.app.handler` at its
# root) without what does not run, exactly as the CDK asset leaves it out.
_COPY_HANDLERS = (
    "python -c 'import shutil, sys; from conveyor.handlers import ASSET_ROOT, ASSET_EXCLUDE; "
    "shutil.copytree(ASSET_ROOT, sys.argv[1], ignore=shutil.ignore_patterns(*ASSET_EXCLUDE))' "
    f"{HANDLERS_DIR}"
)


def conveyor_requirement(spec: Spec) -> str:
    """What the pipeline installs: the spec's choice, or the version that synthesized it."""
    return spec.self_update.install or f"conveyor[cdk]=={conveyor.__version__}"


def self_update_buildspec() -> dict[str, Any]:
    """Install conveyor, synthesize the spec, publish the pipeline stack's assets, and leave the
    templates (Synth) and the handlers package (Handlers) as two output artifacts.

    Runtimes of CodeBuild's standard:7.0 image:
    https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html
    With more than one output artifact, each is a secondary artifact named like the pipeline's
    output artifact: https://docs.aws.amazon.com/codebuild/latest/userguide/sample-pipeline-multi-input-output.html
    """
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "install": {
                "runtime-versions": {"python": "3.12", "nodejs": "22"},
                "commands": ['pip install --quiet "$CONVEYOR_REQUIREMENT"'],
            },
            "build": {
                "commands": [
                    "set -euo pipefail",
                    'test -f "$CONVEYOR_SPEC" || { echo "conveyor: the source has no '
                    "$CONVEYOR_SPEC; set self_update.spec in conveyor.yaml to its path from the "
                    'repository root" >&2; exit 1; }',
                    f'conveyor synth "$CONVEYOR_SPEC" -o {SYNTH_DIR}',
                    f'test -f "{SYNTH_DIR}/$PIPELINE_STACK.template.json" || {{ echo "conveyor: '
                    f"{SYNTH_DIR} has no $PIPELINE_STACK.template.json: app or suffix changed in "
                    '$CONVEYOR_SPEC; a renamed pipeline is a new one: conveyor deploy it" >&2; '
                    "exit 1; }",
                    # Templates name their code by asset hash in each account's CDK bootstrap
                    # bucket: publish every stack's before CloudFormation reads them (as
                    # `conveyor deploy` does for the stacks it deploys). Already published
                    # assets are skipped.
                    f"npx --yes {CDK_PACKAGE} publish-assets --unstable=publish-assets "
                    f"--app {SYNTH_DIR} --all",
                    f"rm -rf {HANDLERS_DIR}",
                    _COPY_HANDLERS,
                ]
            },
        },
        # The project's local custom cache keeps pip's and npm's downloads between runs:
        # https://docs.aws.amazon.com/codebuild/latest/userguide/build-caching.html#caching-local
        "cache": {"paths": ["/root/.cache/pip/**/*", "/root/.npm/**/*"]},
        "artifacts": {
            "secondary-artifacts": {
                SYNTH_ARTIFACT: {"base-directory": SYNTH_DIR, "files": ["**/*"]},
                HANDLERS_ARTIFACT: {"base-directory": HANDLERS_DIR, "files": ["**/*"]},
            }
        },
    }


def file_publishing_role_arn(
    scope: Construct, account: str = Aws.ACCOUNT_ID, region: str = Aws.REGION
) -> str:
    """The CDK bootstrap role that may write assets into the bootstrap bucket of `account`
    (default: the pipeline's) in `region` (default: the pipeline's); its trust policy lets
    principals of that account assume it, and of the pipeline's account where `conveyor
    bootstrap --account` trusted it. https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html"""
    return Stack.of(scope).format_arn(
        service="iam",
        region="",
        account=account,
        resource="role",
        resource_name=f"cdk-{BOOTSTRAP_QUALIFIER}-file-publishing-role-{account}-{region}",
    )


def environment_account(pipeline: Construct, env: Environment) -> str:
    """An environment's account in the pipeline template: the template parameter that names it
    (FM25: never a literal), shared with the other-account constructs that created it first."""
    id = f"{camel(env.name)}AccountId"
    found = pipeline.node.try_find_child(id)
    parameter = (
        found
        if isinstance(found, CfnParameter)
        else CfnParameter(
            pipeline,
            id,
            type="String",
            default=env.account,
            allowed_pattern=r"^\d{12}$",
            description=f"Account of the {env.name} environment",
        )
    )
    return parameter.value_as_string


def grant_asset_publishing(role: iam.IRole, scope: Construct, spec: Spec) -> None:
    """What `cdk publish-assets` needs in the pipeline's account: the CDK CLI assumes the
    bootstrap file-publishing role, after reading the bootstrap version the stacks' assets
    require (an SSM parameter). Environments in other regions have their stacks' assets (their
    templates) published into the bootstrap bucket of that region (`conveyor bootstrap`
    prepares it); other accounts' roles: grant_foreign_asset_publishing, once their account
    parameters exist. https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html"""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["sts:AssumeRole"],
            resources=[
                file_publishing_role_arn(scope),
                *(file_publishing_role_arn(scope, region=r) for r in spec.other_regions),
            ],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ssm:GetParameter", "ssm:GetParameters"],
            resources=[bootstrap_version_parameter_arn()],
        )
    )


def grant_foreign_asset_publishing(
    role: iam.IRole, scope: Construct, pipeline_scope: Construct, spec: Spec
) -> None:
    """Each other account's environment stacks have their assets published there, through
    that account's file-publishing role (trusting the pipeline's account after `conveyor
    bootstrap --account`)."""
    accounts = {env.account: env for env in spec.foreign_environments}
    if accounts:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[
                    file_publishing_role_arn(scope, environment_account(pipeline_scope, env))
                    for _, env in sorted(accounts.items())
                ],
            )
        )


def bootstrap_version_parameter_arn(region: str = Aws.REGION) -> str:
    """The SSM parameter `cdk bootstrap` writes its version to (in `region`, default: where
    the policy's stack deploys); templates check it."""
    return (
        f"arn:{Aws.PARTITION}:ssm:{region}:{Aws.ACCOUNT_ID}:parameter/cdk-bootstrap/"
        f"{BOOTSTRAP_QUALIFIER}/version"
    )


class UpdatePipeline(Construct):
    """The stage after Source: a CodeBuild job that synthesizes, then a CloudFormation action
    that updates the pipeline's own stack through a service role made for that one stack.

    `synth_output` holds every `<stack>.template.json` at its root; `handlers_output` the
    handlers package (zip root = package root, so `notify.app.handler` resolves).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: Spec,
        naming: Naming,
        source: codepipeline.Artifact,
        key: kms.IKey,
        log_group: logs.ILogGroup,
        tags: Mapping[str, str],
        regions: Sequence[RegionalSupport] = (),
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.stack_name = stack.stack_name
        self.synth_output = codepipeline.Artifact(SYNTH_ARTIFACT)
        self.handlers_output = codepipeline.Artifact(HANDLERS_ARTIFACT)
        self.job = CodeBuildJob(
            self,
            "Synth",
            name=naming.name("update-pipeline"),
            description=f"conveyor: synthesizes {spec.self_update.spec} and updates the pipeline",
            buildspec=self_update_buildspec(),
            compute="small",
            timeout_minutes=20,
            key=key,
            log_group=log_group,
            variables={
                "CONVEYOR_REQUIREMENT": conveyor_requirement(spec),
                "CONVEYOR_SPEC": spec.self_update.spec,
                "PIPELINE_STACK": self.stack_name,
            },
        )
        # finish() adds the other accounts' publishing roles.
        grant_asset_publishing(self.job.role, self, spec)
        # CloudFormation acts with this role on the pipeline stack only; its permissions are
        # those of the stack's resource types, added once the stack is complete
        # (grant_stack_changes).
        self.deployment_role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com"),
            description=f"conveyor {naming.app}: CloudFormation updates the pipeline stack",
        )
        self._app = naming.app
        self._tags = dict(tags)
        self._spec = spec
        self.synth_action = actions.CodeBuildAction(
            action_name="Synth",
            project=self.job.project,
            input=source,
            outputs=[self.synth_output, self.handlers_output],
            run_order=1,
        )
        # Each other region's support stack, before the pipeline's own (module docstring). The
        # action role CDK makes may describe, create and update that one stack in its region
        # and pass that one role (the CloudFormation action's permissions:
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html,
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role).
        self.regions = list(regions)
        self.region_actions = [
            actions.CloudFormationCreateUpdateStackAction(
                action_name=region_action_name(support.region),
                stack_name=support.stack_name,
                template_path=self.synth_output.at_path(support.stack.template_file),
                admin_permissions=False,
                deployment_role=support.deployment_role(),
                # The stack names the environments' CloudFormation roles.
                cfn_capabilities=[CfnCapabilities.NAMED_IAM],
                region=support.region,
                run_order=2,
            )
            for support in self.regions
        ]
        self.update_action = actions.CloudFormationCreateUpdateStackAction(
            action_name="UpdatePipeline",
            # The stack this template is deployed as, whatever it was named (and how conveyor
            # check tells a self-update from a release).
            stack_name=Aws.STACK_NAME,
            template_path=self.synth_output.at_path(f"{self.stack_name}.template.json"),
            admin_permissions=False,
            deployment_role=self.deployment_role,
            # The pipeline stack creates roles (never named ones, but the capability covers
            # both): https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html
            cfn_capabilities=[CfnCapabilities.NAMED_IAM],
            # No parameter overrides: `conveyor deploy` passes none either, so every parameter
            # takes the default conveyor.yaml gave it.
            run_order=3 if self.region_actions else 2,
        )

    @property
    def project(self) -> codebuild.IProject:
        return self.job.project

    @property
    def stage(self) -> codepipeline.StageProps:
        return codepipeline.StageProps(
            stage_name=STAGE_NAME,
            actions=[self.synth_action, *self.region_actions, self.update_action],
        )

    def finish(self, pipeline: codepipeline.Pipeline) -> None:
        """Once the stack holds everything: the service role's permissions, and the reasons for
        the wildcards CDK's CloudFormation action role carries."""
        stack = Stack.of(self)
        grant_stack_changes(self.deployment_role, stack, app=self._app, tags=self._tags)
        # Each other account's environment stacks have their assets published there.
        pipeline_scope = self.node.scope
        assert isinstance(pipeline_scope, Construct)
        grant_foreign_asset_publishing(self.job.role, self, pipeline_scope, self._spec)
        for support in self.regions:
            self._finish_region(pipeline, support)
        action_role = pipeline.node.find_child(STAGE_NAME).node.find_child("UpdatePipeline")
        where = _rendered_arn_prefix(stack)
        reason = (
            "CDK's CloudFormation action role: describe, read and update this one stack "
            f"({self.stack_name}); the wildcards span the variants of one operation and the "
            "stack's id, which CloudFormation appends to its ARN"
        )
        for finding in (
            "IAM5[Action::cloudformation:DescribeStack*]",
            "IAM5[Action::cloudformation:GetTemplate*]",
            f"IAM5[Resource::{where}:cloudformation:{_rendered_region(stack)}:<AWS::AccountId>:"
            "stack/<AWS::StackName>/*]",
        ):
            acknowledgements.acknowledge(action_role, finding, reason)

    @staticmethod
    def _finish_region(pipeline: codepipeline.Pipeline, support: RegionalSupport) -> None:
        """The region stack's own role, now that the stack is complete; the action role reads
        the template from that region's store (its key found by alias, regional_support.py)."""
        deploy_role = support.finish()
        action = pipeline.node.find_child(STAGE_NAME).node.find_child(
            region_action_name(support.region)
        )
        role = action.node.find_child("CodePipelineActionRole")
        assert isinstance(role, iam.Role)
        role.add_to_policy(support.key_statement(KEY_READ))
        # CloudFormation resolves the stack's SSM-typed parameter (the CDK bootstrap version,
        # which the CDK's synthesizer adds to that stack at synthesis, after this) in that
        # region, with the caller's credentials and the stack role's, on every create and update.
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/systems-manager-parameter-types.html
        for reader, region in ((role, support.region), (deploy_role, Aws.REGION)):
            reader.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["ssm:GetParameters"],
                    # Aws.REGION in the region stack's own policy: that stack's region.
                    resources=[bootstrap_version_parameter_arn(region)],
                )
            )
        acknowledgements.regional_artifacts(
            role, bucket_name=support.shown_bucket_name, region=support.region
        )
        acknowledgements.stack_deploy_actions(pipeline, support.stack_name, region=support.region)


def region_action_name(region: str) -> str:
    """The UpdatePipeline stage's action on a region's stack. The region in camel case: the
    template names other regions only by parameter (region_tokens), never inside a name."""
    return f"UpdateRegion{camel(region)}"


def stack_resource_types(stack: Stack) -> list[str]:
    """The CloudFormation resource types `stack` holds (CDK's own metadata aside), sorted."""
    return sorted(
        {
            child.cfn_resource_type
            for child in stack.node.find_all()
            if isinstance(child, CfnResource)
            and Stack.of(child) is stack
            and not child.cfn_resource_type.startswith("AWS::CDK::")
        }
    )


def grant_stack_changes(role: iam.Role, stack: Stack, *, app: str, tags: Mapping[str, str]) -> None:
    """What CloudFormation calls, with this role's credentials, to create, update, read and
    delete the stack's resources: the resource schemas' handler permissions (cfn_permissions).
    CloudFormation makes every call of a stack operation with the service role:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
    Key management and use only on keys carrying the pipeline's App and Environment tags (its
    own keys; never an environment's), as for the environments' roles (cloudformation_role).
    """
    all_types = stack_resource_types(stack)
    # The managed policies below are resources of this stack too.
    types = sorted({kind for kind in all_types if not _custom(kind)} | {"AWS::IAM::ManagedPolicy"})
    missing = [kind for kind in types if kind not in PERMISSIONS]
    if missing:
        raise ValueError(
            f"no CloudFormation permissions known for {', '.join(missing)}: add the type to "
            "scripts/cfn_permissions.py and run it"
        )
    actions = sorted({action for kind in types for action in PERMISSIONS[kind]})
    roles = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}"
    iam_actions = [a for a in actions if a.startswith("iam:") and a not in SERVICE_LINKED_ACTIONS]
    if iam_actions:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=iam_actions,
                # conveyor names its roles {app}-...; CloudFormation names the others after the
                # stack, {app}-pipeline-...; service-linked roles: below.
                resources=[f"{roles}:role/{app}-*", f"{roles}:policy/{app}-*"],
                # `{app}-*` also matches another app's names when that app's name extends this
                # one's (`payments-...` for an app `pay`), and the app's environment roles:
                # those tagged for another app or environment are refused; the pipeline
                # stack's carry its tags from CreateRole on.
                # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
                conditions=tag_conditions(tags),
            )
        )
    # Only the service-linked roles the stack's types create, each for its own service.
    grant_service_linked_roles(role, stack)
    grant_key_calls(role, actions, tags=tags, aliases=stack_alias_names(stack))
    # What deletes, reconfigures or opens a bucket, log group, topic or function: only the
    # pipeline stack's own, as for the environments' roles (cfn_scopes.py).
    grant_owned_calls(role, actions, stack, tags)
    unscoped = [
        a
        for a in actions
        if not a.startswith("iam:") and a not in KEY_SCOPED_ACTIONS and not scoped(a)
    ]
    for index, chunk in enumerate(_chunks(unscoped)):
        policy = iam.ManagedPolicy(
            role,
            f"ResourcePermissions{index}",
            description=f"What CloudFormation calls for the pipeline stack's resources ({index})",
            statements=[iam.PolicyStatement(actions=chunk, resources=["*"])],
            roles=[role],
        )
        _explain_unscoped(policy)
    if any(_custom(kind) for kind in all_types):
        # CloudFormation invokes a custom resource's provider function itself, with the role;
        # CDK's providers are functions of this stack, named after it.
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources-lambda.html
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[
                    f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:"
                    f"{Aws.STACK_NAME}-*"
                ],
                # The prefix also matches a stack whose name extends this one's.
                conditions=tag_conditions(tags),
            )
        )
        acknowledgements.acknowledge(
            role,
            "IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:"
            "<AWS::StackName>-*]",
            "the custom resource providers CDK adds to this stack; CloudFormation names them "
            "after the stack",
        )
    # Lambda reads a function's code with the caller's credentials: the handler code the CDK
    # CLI published to the bootstrap bucket.
    # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[
                f"arn:{Aws.PARTITION}:s3:::cdk-{BOOTSTRAP_QUALIFIER}-assets-{Aws.ACCOUNT_ID}-"
                f"{Aws.REGION}/*"
            ],
        )
    )
    # SSM-typed template parameters (the CDK bootstrap version, the Powertools layer) are
    # resolved during the stack operation, with the role's credentials.
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ssm:GetParameters"],
            resources=[
                bootstrap_version_parameter_arn(),
                f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}::parameter/aws/service/powertools/*",
            ],
        )
    )
    for resource, reason in (
        (f"role/{app}-*", "the app's roles: conveyor and CloudFormation name them {app}-..."),
        (f"policy/{app}-*", "the app's managed policies, named after the stack {app}-..."),
    ):
        acknowledgements.acknowledge(
            role, f"IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:{resource}]", reason
        )
    acknowledgements.acknowledge(
        role,
        f"IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-{BOOTSTRAP_QUALIFIER}-assets-"
        "<AWS::AccountId>-<AWS::Region>/*]",
        "the handler code objects in the CDK bootstrap bucket, named by content hash",
    )
    acknowledgements.acknowledge(
        role,
        "IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>::parameter/aws/service/"
        "powertools/*]",
        "AWS's public parameters naming the Powertools layer versions",
    )


# IAM's size quota for one managed policy is 6,144 characters; chunks stay well below it.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
_POLICY_CHARACTERS = 5000
_UNSCOPED_REASON = (
    "CloudFormation creates the pipeline stack's resources under names and ids it generates "
    "(keys, rules, queues, log groups): their ARNs do not exist before the calls the resource "
    "schemas list; only CloudFormation can assume this role, for the template the pipeline "
    "synthesized from conveyor.yaml"
)


def _chunks(actions: list[str]) -> list[list[str]]:
    """`actions` in order, cut into lists whose policy text stays under the size quota."""
    found: list[list[str]] = [[]]
    size = 0
    for action in actions:
        if found[-1] and size + len(action) + 3 > _POLICY_CHARACTERS:
            found.append([])
            size = 0
        found[-1].append(action)
        size += len(action) + 3
    return found


def _explain_unscoped(policy: iam.ManagedPolicy) -> None:
    acknowledgements.acknowledge(policy, "IAM5[Resource::*]", _UNSCOPED_REASON)
    resource = policy.node.default_child
    assert isinstance(resource, CfnResource)
    resource.add_metadata("conveyor", {"suppress": [{"rule": "CV051", "reason": _UNSCOPED_REASON}]})


def _custom(kind: str) -> bool:
    return kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource"


def _rendered_region(stack: Stack) -> str:
    return "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region


def _rendered_arn_prefix(stack: Stack) -> str:
    """How cdk-nag writes an ARN's start: the partition literal once the region is known."""
    partition = stack.resolve(stack.partition)
    return f"arn:{partition}" if isinstance(partition, str) else "arn:<AWS::Partition>"
