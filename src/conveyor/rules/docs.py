"""Generate ``docs/rules/<ID>.md`` and ``docs/rules/README.md`` from the rules' metadata.

Run ``python -m conveyor.rules.docs [DOCS_DIR]``; a test fails when the committed pages differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conveyor.rules.catalog import RULES
from conveyor.rules.model import Rule

SEEDS = {"S1": "000", "S2": "001", "S3": "002", "S4": "003", "S5": "004"}

# Failure modes with no rule, and why a template cannot show them.
NOT_VISIBLE = {
    "FM90": "Tests that only assert existence, lack error paths or call AWS: a property of the "
    "project's test suite, not of any CloudFormation template. conveyor's own CI enforces it.",
    "FM91": "Wrong or deprecated library API (CDK enum values, removed properties) fails in the "
    "program that writes the template, before a template exists. Type checking (mypy strict) "
    "and synthesis in CI catch it.",
    "FM106": "Validation that can never pass or never finish is behaviour of the validation code "
    "(its TLS name, time budget, retries against the function timeout), not of a template. "
    "conveyor's spec refuses checks that cannot fit and its handler tests cover the rest.",
    "FM107": "A gate that fails open on unreadable reports is behaviour of the gate's code; "
    "conveyor's scan gate is tested with malformed SARIF of every shape.",
    "FM108": "Idempotency of a runtime action is behaviour of the handler's code; conveyor's "
    "handlers key every action on the job or event id and are tested with duplicate deliveries.",
    "FM110": "Whether infrastructure changes reach production outside the pipeline depends on how "
    "stacks are deployed, which no single template shows.",
}

# Failure modes found after the seed catalogue (shared design/FAILURE-MODES.md ends at FM110):
# this repository's continuation of it, listed on the index page.
ADDED_FAILURE_MODES = {
    "FM111": "A pipeline in PARALLEL execution mode that counts on stage rollback: AWS offers "
    "no stage rollback in that mode and refuses rollback conditions "
    "(https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html).",
    "FM112": "A stage condition (alarm gate before entry, alarm bake on success) watching a "
    "CloudWatch alarm that does not exist: the gate never sees the environment's health.",
    "FM113": "A before-entry alarm gate on an alarm the stage's own deploy creates: on the first "
    "release the alarm does not exist yet, and the CloudWatchAlarm rule needs an existing one "
    "(https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html).",
    "FM114": "A before-entry alarm gate and a rollback condition of the same stage on one alarm: "
    "AWS does not document whether a rollback execution passes the entry gate again, which "
    "would hold the rollback back on the alarm that asked for it "
    "(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html).",
    "FM115": "A public web entry point served over plain HTTP, or over TLS that still "
    "accepts TLS 1.0 and 1.1: traffic readable and changeable on the path "
    "(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html).",
    "FM116": "A pipeline that pull requests start and that deploys or pushes an image: the "
    "code of a pull request, which anyone who can open one chose and nobody reviewed yet, "
    "reaches an environment or the registry releases deploy from "
    "(https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html).",
    "FM117": "A pull-request build whose role may push images, change stacks, or pass or assume "
    "roles: the pull request's code runs with those rights "
    "(https://aws.amazon.com/blogs/security/implementing-defense-security-for-aws-codebuild-pipelines/).",
    "FM120": "A Lambda package version an environment's stack deploys that the code bucket's "
    "lifecycle can expire while the environment runs it (a key every build writes, or current "
    "versions that expire): the next rollback or stack update that reads the code fails "
    "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html).",
    "FM121": "A CloudFormation service role allowed to delete or lock any key, or to grant any "
    "role more access (kms:ScheduleKeyDeletion, kms:PutKeyPolicy, iam:PutRolePolicy, "
    "iam:AttachRolePolicy on every key or role): one environment's stack reaches another's "
    "(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).",
    "FM122": "A deployment that a stage rollback redeploys watches alarms measuring more than "
    "its own release (a service's 5xx, every version behind an alias): the bad release holds "
    "them in ALARM, so CodeDeploy or ECS stops the rollback and returns to the bad release "
    "(https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html).",
    "FM123": "Two owners of one rollback: CodeDeploy's automatic rollback (a new deployment) and "
    "the pipeline's stage rollback both deploy one deployment group, which runs one deployment "
    "at a time (https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html).",
    "FM124": "A deployment window or alarm gate on the entry of a stage that rolls back: AWS "
    "does not document whether the rollback execution must pass it, and if it must, a rollback "
    "waits for the next window, or behind an alarm the bad release itself makes fire "
    "(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html).",
    "FM125": "A CloudFormation service role allowed to delete, rewrite or open any resource of a "
    "service (s3:DeleteBucket, s3:PutBucketPolicy, logs:DeleteLogGroup, "
    "lambda:UpdateFunctionCode, ecs:UpdateService, ec2:AuthorizeSecurityGroupIngress, "
    "elasticloadbalancing:ModifyListener on '*'): one environment's stack reaches another's, "
    "or another app's "
    "(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).",
    "FM126": "A CodePipeline action in another region with no artifact store in that region "
    "(a single ArtifactStore, or ArtifactStores without the action's region): CloudFormation "
    "cannot create or update the pipeline "
    "(https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-create-cross-region.html).",
    "FM127": "A service behind a load balancer whose tasks have public IP addresses (a NAT-free "
    "network) and whose security group admits the internet on the application port: every "
    "task answers the world directly, around the load balancer's TLS, rules and logs "
    "(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html).",
    "FM128": "An ECS service with no load balancer whose essential containers have no health "
    "check: a task counts as healthy once RUNNING, so a release that starts and then crashes "
    "completes its rolling deployment, circuit breaker or not "
    "(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html).",
    "FM129": "An SQS queue whose failed messages vanish unseen: a consumed queue with no "
    "dead-letter queue retries a message its consumer cannot process until the retention period "
    "deletes it, and a dead-letter queue no alarm watches keeps them only until its own "
    "retention ends (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
    "sqs-dead-letter-queues.html).",
    "FM130": "A schedule that starts an ECS task with no dead-letter queue: a run ECS refuses to "
    "start (an inactive task definition, a role it cannot pass, no capacity or address) leaves "
    "no task, log or event behind, and the scheduler drops it after its retries; the job "
    "silently stops running "
    "(https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).",
    "FM131": "A stack deployed in another region than its pipeline's, handed a Lambda package "
    "from a bucket in the pipeline's region: Lambda reads a function's code only from a bucket "
    "in the function's region, so the release fails there "
    "(https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html); or its approval "
    "tells the approver to read its change set with an AWS CLI command without --region, which "
    "looks in the approver's own region.",
    "FM133": "An ECS task on Fargate (or external or managed instances) whose container image "
    "is in a private ECR repository and whose execution role is not allowed to pull it "
    "(ecr:GetAuthorizationToken on '*', ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on the "
    "repository), or that has no execution role: every task stops with "
    "CannotPullContainerError and the deployment that starts it fails "
    "(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).",
    "FM136": "A CodeBuild job that installs conveyor without its cdk extra and then runs "
    "`conveyor synth`: synthesis needs the AWS CDK libraries and exits 2 without them, so the "
    "job fails on every run and the environment stages that deploy its templates never run.",
}

# What a heuristic rule cannot see even though the failure mode is covered.
PARTLY_VISIBLE = {
    "FM26": "CV037 reads inline buildspecs only; a buildspec.yml kept in the source repository "
    "is not in the template.",
    "FM27": "CV038 reads inline buildspecs only.",
    "FM28": "CV039 reads inline buildspecs only.",
    "FM60": "CV070 sees one template: a cluster or service defined in another stack and named by "
    "a literal is reported; referencing it by import or parameter silences it.",
    "FM70": "CV080: notification rules defined in another stack are not visible.",
    "FM73": "CV083: alarms defined in another stack are not visible.",
    "FM74": "CV084: history kept outside the template (another stack, a SaaS) is not visible.",
    "FM100": "CV093 covers tag-on-create for ECS deploy actions; other missing actions depend on "
    "what code and buildspecs do at run time. conveyor proves its own roles with an IAM "
    "evaluator in its contract tests (tests/contracts).",
    "FM102": "CV096 reads inline buildspecs and the functions and services in the same template.",
    "FM104": "CV098 cannot see base images named inside a Dockerfile.",
    "FM112": "CV101 judges an alarm name only where the template must define the alarm (the "
    "stage deploys this template's resources, every alarm's name is known); an alarm of "
    "another stack, region or account is not visible.",
    "FM113": "CV103 sees the stack a stage deploys only when its template (a cdk.out "
    "<stack>.template.json named by the action's TemplatePath, in the pipeline template's "
    "folder) is checked in the same run.",
    "FM122": "CV112 sees the deployments a stage redeploys in the pipeline's template and in "
    "the stack templates beside it checked in the same run (a cdk.out); an alarm whose name is "
    "not literal is matched by its logical id only.",
    "FM123": "CV113 finds a CodeDeploy action's deployment group by its literal "
    "DeploymentGroupName in the templates checked in the same run.",
    "FM80": "CV090: tags applied to the whole stack at deploy time are not in the template.",
    "FM127": "CV122 judges security groups the template defines; a group of another stack "
    "(an id, Fn::ImportValue) is not visible. On Terraform plans and Pulumi exports security "
    "groups are not mapped yet (aws_security_group, aws_vpc_security_group_ingress_rule), so "
    "there it reports nothing.",
    "FM129": "CV125 sees consumers (event source mappings, pipes, IAM policies allowing "
    "sqs:ReceiveMessage by reference) and alarms in the same template; a consumer or alarm of "
    "another stack is not visible. On Terraform plans and Pulumi exports it reads queues, event "
    "source mappings, IAM policies and metric alarms (not pipes, SNS subscriptions' redrive "
    "policies or metric math).",
    "FM130": "CV126 judges the dead-letter queue of the schedule (or scheduled rule) that "
    "starts an ECS task; whether a run that started and then failed is told (a rule on ECS "
    "Task State Change, which conveyor's jobs have) and whether an alarm watches the queue "
    "(CV125's ground) are not its findings.",
}


# Precision evidence per rule: what `conveyor check` reports on real templates nobody tuned for
# (the 970 real-world templates of ../shared/corpus/public, origin "sample"; counted with
# `python benchmarks/check_precision.py`), and which cases were judged false and fixed.
CORPUS_NOTE = (
    "Measured on the 970 real-world templates of the public corpus (`../shared/corpus/public`, "
    "`python benchmarks/check_precision.py`)."
)
PRECISION: dict[str, str] = {
    "CV001": "125 findings in 81 templates, all true to the letter (no configuration, or "
    "settings left false); the risk is lower than it reads, since S3 blocks public access on "
    "new buckets by default since April 2023: medium, not high. Tests cite F5's bigip-standalone "
    "bucket (true) and AWS's hook-deployment bucket (blocked, not reported).",
    "CV002": "112 findings in 77 templates; a seeded sample of 25 (`random.Random(16)`) judged: "
    "all true to the letter (no BucketEncryption), all of low risk, since S3 encrypts every new "
    "object with SSE-S3 anyway since January 2023 "
    "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingServerSideEncryption.html): "
    "what is missing is the declared intent and a customer key. No false finding.",
    "CV003": "10 findings in 10 templates, all true (artifact buckets without a customer key). "
    "An ArtifactStore without EncryptionKey beside a bucket with one is also reported. Tests "
    "cite AWS's ECS blue/green pipeline (true) and ADF's deployment pipeline (keyed, not "
    "reported).",
    "CV004": "5 findings in 5 templates, all true but low-risk (ECR encrypts with AES256 "
    "whatever the template says; the rule asks for the intent and, for sensitive images, a "
    "customer key). No false finding.",
    "CV005": "11 findings in 11 templates, all true: pipeline artifact buckets (AWS, ADF, CfCT and "
    "Stelligent samples) with no expiration of current objects. CfCT expires noncurrent "
    "versions only, but every artifact is written under a new key, so current objects are "
    "what accumulates.",
    "CV006": "193 findings before issue 16, 159 after: policies naming their bucket with the "
    "same `!Sub`/`Fn::Join` (AWS's compliant-bucket samples) and statements chosen by "
    "`Fn::If` were read as missing (34 false findings). The rest have no TLS-deny policy.",
    "CV007": "346 findings before, 326 after: a Lambda function's own log group (deleted with "
    "it, as expected) is no longer asked for a policy.",
    "CV008": "12 findings in 10 templates, all true: buckets with an explicit DeletionPolicy "
    "Delete and nothing that empties them (pipeline artifact, website, replication buckets); "
    "stack deletion fails once they hold objects.",
    "CV009": "20 findings in 14 templates before issue 16 (literal bucket names, all true), 27 "
    "in 19 after: the 7 new ones are names unique per account in templates that take an "
    "environment parameter. 3 are plainly true (an IAM role and a load balancer named alike in "
    "every environment's copy); 4 are in templates deployed once per account (Control Tower "
    "SSM parameters, an ADF sample), where a fixed name is harmless: suppress with that reason. "
    "Names that vary only by `${AWS::AccountId}`/`${AWS::Region}` in a template taking an "
    "environment parameter (issue 16 review): no such name on the corpus, counts unchanged; "
    "the rule's own good fixture had one and now names the environment.",
    "CV010": "3 findings in 3 templates, all true: symmetric keys without EnableKeyRotation (the "
    "EKS quick start's cluster key, two linter fixtures).",
    "CV012": "34 findings in 30 templates, one message; a seeded sample of 25 "
    "(`random.Random(16)`) judged: all true to the letter (no KmsMasterKeyId); 7 are pipeline "
    "or approval topics (true), 18 alarm, Config, CloudTrail, budget topics and tool test "
    "fixtures (true but low-risk). No false finding; a key chosen by Fn::If counts.",
    "CV013": "65 findings in 57 templates, one message; a seeded sample of 25 "
    "(`random.Random(16)`) judged: all true but low-risk (no KmsKeyId; CloudWatch Logs "
    "encrypts with a service key anyway), hence low severity. No false finding.",
    "CV016": "New in issue 16: 26 findings in 18 templates, every one a build project without "
    "EncryptionKey (AWS's and Stelligent's pipeline samples, ADF); low severity: the key's "
    "control, not a breakage, unless another account reads the artifacts.",
    "CV014": "New in issue 16: 22 findings in 21 templates (tables with neither SSE nor "
    "recovery); tables whose settings come from parameters or conditions are not judged.",
    "CV015": "New in issue 16: no finding on the corpus (its S3 sources are versioned or in "
    "other stacks); the seed failure is covered by its fixtures.",
    "CV020": "4 findings in 4 templates, all true: ECR repositories with no lifecycle policy.",
    "CV021": "4 findings in 4 templates, all true: no ScanOnPush (and no registry scanning "
    "configuration in the template).",
    "CV022": "5 findings in 5 templates, all true: every ECR repository of the corpus has mutable "
    "tags (ADF's sample even keeps pushing `latest`).",
    "CV030": "1 finding: true. The blue/green sample runs `docker build` without PrivilegedMode on "
    "aws/codebuild/docker:1.12.1, an image that once ran Docker without the flag; it is "
    "retired (CV031) and the current images need PrivilegedMode.",
    "CV031": "10 findings in 6 templates, all true: retired images (`java:openjdk-8`, "
    "`ubuntu-base:14.04`, `docker:1.12.1`, `python:2.7.12`, `standard:3.0`).",
    "CV032": "18 findings in 13 templates, all judged. 15 have no TimeoutInMinutes: true but "
    "low-risk (a hung build runs the 60-minute default). 3 set 480: two generic pipeline "
    "modules (true) and CfCT's StackSet build, which waits on StackSet operations across an "
    "organisation's accounts (accepted: suppress with that reason).",
    "CV033": "30 findings in 19 templates, all judged: none of these templates defines a log group "
    "or LogsConfig, so CodeBuild creates `/aws/codebuild/<project>` itself, kept forever and "
    "without a key. True; the risk is cost and control, the builds do log.",
    "CV034": "12 findings in 10 templates, all true (logs never expire). 6 are AWS Solutions "
    "Constructs log groups kept forever on purpose (their cfn_nag W86 suppression says so): "
    "accepted, suppress with that reason.",
    "CV035": "214 findings; Lambda@Edge functions (their logs live in per-Region groups a "
    "template cannot create) are passed over. Tests cite AWS's hook contract-test functions "
    "(true) and widdix's log anonymizer (its /aws/lambda group, not reported).",
    "CV036": "59 findings in 45 templates before issue 16, 57 in 44 after; a seeded sample of 25 "
    "(`random.Random(16)`) and one finding of each message shape (account, region, both) "
    "judged. False and fixed: AWS's AmazonIpSpaceChanged topic exists only in us-east-1 of "
    "AWS's account, so its literal ARN is the only way to name it (2 findings). Accepted: "
    "ECS's reference architecture pulls a demo image from AWS's sample account (another "
    "party's account; suppress with that reason). The other 23 of the sample are true, most "
    "of them placeholder accounts in tool test fixtures (cfn_nag, SAM, cfripper, rain), some "
    "real (an author's account in a role ARN, an IoT policy's region).",
    "CV039": "1 finding before issue 16, none after: ADF's `npm install aws-cdk@2.136.0 -g` "
    "installs a named package and reads no package.json (false). `npm ci`, `npm test` and a "
    "bare `npm install` are still reported; the fixtures hold the true case.",
    "CV040": "2 findings in 2 templates, both true (advice): the blue/green samples' Docker builds "
    "have no cache.",
    "CV042": "1 finding: true (cfn_nag's fixture with a literal webhook secret); its siblings "
    "reading Secrets Manager or SSM are not reported.",
    "CV045": "118 findings before, 35 after: switches, password-policy settings, pointers "
    "(`...S3Arn`, `...KMSKey`, `ParentSecretStack`) and actions (`createSecret`) were reported as "
    "secrets (83 false). The remaining ones are secrets without NoEcho or with a default. "
    "Issue 16 review: a secret word that only qualifies the last noun (`secret-manager-enabled`, "
    "`tokenizer-model`, `oauth/token-endpoint`, `credentials-provider`) is no secret; the "
    "corpus holds no such name and its 35 findings are unchanged.",
    "CV047": "New in issue 16: no finding on the corpus after the switch `EKSEncryptSecrets` "
    "was excluded; token-shaped values, NoEcho values and secret names are reported. A name "
    "whose secret word qualifies another noun (`.../token-endpoint`, `.../credentials-provider`) "
    "is not (CV045's heuristic, tests in tests/rules/test_precision_rules.py).",
    "CV050": "141 findings in 95 templates, 40 distinct messages; a seeded sample of 25 "
    "(`random.Random(16)`) plus one finding of every distinct message judged: none false. "
    "In the sample 16 are true (`*`, `iam:*`, `cloudformation:*`, `kms:*` on `*` ...) and 9 "
    "true but low-risk: `logs:*` on log ARNs (5), the SSM agent's `ec2messages:*` and "
    "`ssmmessages:*` (2; AmazonSSMManagedInstanceCore lists their actions one by one), `s3:*` "
    "scoped to named buckets (2).",
    "CV051": "348 findings before, 340 after: task-execution and App Runner access roles "
    "pulling parameterised images on `*` (what AWS's managed policy grants) are accepted. Many "
    "remaining findings are true but low-risk (`logs:*` on `*` in samples). Issue 16 review: "
    "policies written as JSON strings are read, 1 more (the ECS reference architecture's "
    "container-instance role: ECS agent actions that take a cluster ARN, on `*`; true, low "
    "risk): 341.",
    "CV052": "No finding on the corpus (its build roles grant ECR broadly, or push nothing). "
    "Build images in private ECR (issue 16 review) are judged too: the one corpus project "
    "building in one (stelligent labs/iot/pipeline.yaml) pulls from another stack's repository "
    "with CodeBuild's credentials, whose policy is not visible, so it is not reported; the "
    "firing cases are hand-made (tests/rules/test_seed_points.py).",
    "CV053": "1 finding before issue 16, none after: ADF's pipeline role is not allowed "
    "s3:GetObject itself, but its artifact bucket's policy allows it to every principal of the "
    "organization (`*` narrowed by `aws:PrincipalOrgID`), which was not read as a grant (judged "
    "false, fixed). Only the statements of a bucket or key policy that admit the role count.",
    "CV054": "4 findings before, 3 after: SAM connectors are modelled as grants.",
    "CV055": "1 finding before issue 16, none after: `AWSCodeCommitFullAccess` was listed as "
    "deprecated; it is a current AWS managed policy (judged false, removed from the list).",
    "CV056": "31 findings before, 26 after: a DependsOn that would be circular (the policy "
    "names the function's log group) is no longer suggested. Build projects a pipeline of the "
    "template runs (issue 16 review): 3 more, all true (ADF's deployment/global.yml, rain's "
    "forecast pipeline modules, whose project policy names the project, so the pipeline must "
    "wait). conveyor's own pipelines had the same defect (49 findings on the examples): the "
    "pipeline now waits for every build role's policy.",
    "CV057": "2 findings before issue 16, none after: SAM functions whose "
    "`DeploymentPreference.Alarms` name an alarm on the function's alias, the pattern SAM "
    "documents (the transform moves the alarms into the deployment group it generates; judged "
    "false, fixed).",
    "CV058": "New in issue 16: no finding on the corpus (roles trust the right services there); "
    "it guards against roles copied between services.",
    "CV059": "New in issue 16: no finding on the corpus (its pipeline roles grant broadly); "
    "it reports roles that lack the calls of their actions. Issue 16 review: CloudFormation, "
    "S3, ECR, Step Functions and Manual actions are judged too; the corpus has 5 such actions "
    "whose role it can read (CloudFormation deploys in AWS's ECS blue/green samples, Manual "
    "approvals in a Quick Start and Stelligent's labs), all allowed: still no finding.",
    "CV060": "5 findings in 5 templates, all true: GitHub version 1 (OAuth token) source "
    "actions in AWS's ECS blue/green sample and four Stelligent pipelines.",
    "CV062": "15 findings in 15 templates, all true to the letter: each creates a repository, "
    "which AWS refuses in accounts and organizations that have none. ADF and Customizations for "
    "Control Tower run where repositories usually exist already (low risk there).",
    "CV063": "187 findings before, 62 after: parameters documented as optional ('(Optional)', "
    "'leave blank', 'required if ...', 'ignored when ...') and sentinels listed in "
    "AllowedValues are choices (125 false findings).",
    "CV070": "2 findings before issue 16, none after: a CodeDeployToECS action naming its "
    "application and group by `#{Namespace.Variable}`, outputs of the earlier action that deploys "
    "them (judged false: resolved at run time, an explicit link; fixed).",
    "CV071": "1 finding, accepted: a CODE_DEPLOY service in a nested stack whose deployment "
    "group is in a sibling nested stack, which one template cannot show; suppress with that "
    "reason.",
    "CV073": "14 findings in 7 templates, all true: 5 deployment groups roll back on neither "
    "failure nor alarm (Stelligent's labs); 9 roll back on failure or not at all but on no alarm "
    "(samples that define no alarms: true, lower risk).",
    "CV074": "7 findings; CodeDeploy groups that roll back on CloudWatch alarms count as "
    "validation. Issue 16 review: an OnSuccess CloudWatchAlarm bake validates its stage, a "
    "change set alone and the pipeline's self-update need no validation, and a Build in the "
    "next stage counts only when it targets the deployed environment (reads the deploy's "
    "artifact or variables, or names its stack): still 7 findings, all true (Stelligent labs "
    "and AWS samples whose last deploy has nothing after it). Accepted at the limit: the "
    "ECS blue/green CodeDeploy sample's infrastructure deploy, followed by a build that reads its "
    "variables to make the CodeDeploy artifacts.",
    "CV075": "42 findings in 21 templates; a seeded sample of 25 (`random.Random(16)`) and both "
    "message shapes judged, all true: no circuit breaker (a failing deployment keeps "
    "CloudFormation waiting for hours), and no grace period behind a load balancer (true, low "
    "risk for the fast-starting httpd/nginx containers of AWS's samples).",
    "CV076": "215 findings in 121 templates; a seeded sample of 25 (`random.Random(16)`) and every "
    "message shape (each runtime family, ruby3.2, both SDK v2 findings) judged, all true: "
    "functions on deprecated runtimes cannot be created (many are SAM translator test inputs and "
    "old samples: true, low risk), and AWS's Config sample requires `aws-sdk` on nodejs20.x, "
    "which fails at run time.",
    "CV077": "3 findings before, none after: variables a Greengrass function definition sets "
    "count as defined.",
    "CV078": "New in issue 16: 19 findings in 16 templates, containers with no log driver; "
    "containers inside `Fn::If` are read branch by branch.",
    "CV079": "New in issue 16: no finding on the corpus; templates that define a pipeline and "
    "a group name it from their actions.",
    "CV080": "28 findings in 28 templates, all true: the pipelines' only EventBridge rules start "
    "them on commits, or there are none; 17 are Stelligent's teaching labs.",
    "CV081": "20 findings in 14 templates, all true to the letter: 8 in real solutions (Config "
    "and CloudTrail notification topics, alarm topics nobody subscribes to), 12 in linter "
    "fixtures and construct tests (no risk).",
    "CV082": "141 findings before, 33 after: continuous metrics (EC2, RDS, ElastiCache, ...) "
    "and AWS/DynamoDB (whose alarms ignore missing data) need no TreatMissingData.",
    "CV083": "29 findings before, 28 after: EventBridge failure routing and CodeBuild "
    "FailedBuilds alarms are accepted as equivalent designs. Tests cite rain's forecast pipeline "
    "module (true) and ADF's deployment pipeline (EventBridge failure routing, not reported).",
    "CV084": "9 findings in 9 templates, advice (info), all true: pipelines that deploy and "
    "record nothing.",
    "CV085": "9 findings in 9 templates, advice (info), all true: no scan before the first "
    "deploy action. An action named by `Fn::GetAtt` read as a Python dict in the message; action "
    "names now read as `${Stack.Outputs.Name}`.",
    "CV086": "1 finding, true: Stelligent's codepipeline-lambda lab deploys its Production "
    "stage after Beta with no approval.",
    "CV089": "41 findings in 25 templates; a seeded sample of 25 (`random.Random(16)`) and both "
    "message shapes judged, all true: each names a rain directive (Module, Embed, S3, Constant) "
    "in AWS's rain-packaged templates that it could not check; the rest is checked.",
    "CV090": "2614 findings before, 688 after (one per template): the same 688 templates are "
    "flagged, each with one finding listing its untagged resources. CDK's custom-resource "
    "provider role and function are listed too (taggable through an aspect).",
    "CV091": "6 findings before issue 16, 1 after: ADF's SSM parameter keys (`/adf/kms_arn`, "
    "...) were judged against its kebab-case resource names (5 false: a path-named parameter is "
    "a key its readers spell exactly; left out). The remaining one is true advice.",
    "CV092": "24 findings in 20 templates, advice (info), all true: pipelines, repositories, "
    "topics and tables without an output; low risk where a fixed name lets other stacks build "
    "the reference.",
    "CV094": "4 findings in 4 templates, all true: topics encrypted with `alias/aws/sns` that "
    "EventBridge or CloudWatch publish to (ADF's pipeline notifications among them), and a topic "
    "with no policy admitting events.amazonaws.com.",
    "CV095": "29 findings before issue 16, 21 after: retained log groups named after the stack "
    "id (AWS Solutions Constructs, ParallelCluster) and a secret named after the directory its "
    "custom resource creates are new on every create (8 false, fixed). The remaining names "
    "(literals, parameters, account and region, stack name) repeat on the retry: true.",
    "CV098": "13 findings in 8 templates, all true: ECS containers pulling Docker Hub images "
    "(httpd, busybox, nginx, jenkins) anonymously; low risk in the linter fixtures among them.",
    "CV099": "9 findings before issue 16, 1 after: 8 rules that only run on a schedule "
    "(pollers, a daily certificate check, WAF log parsers) were asked to keep events that carry "
    "nothing but the time (low risk; no longer reported). The remaining rule reacts to CloudTrail "
    "WAF calls, whose lost events lose IP-retention records: true.",
    "CV100": "New in issue 11: no finding on the corpus (none of its 30 pipelines is V2 or "
    "declares stage conditions); its fixtures cover PARALLEL with a rollback stage.",
    "CV101": "New in issue 11: no finding on the corpus (none of its 30 pipelines declares stage "
    "conditions). Judged only where the alarm must be in the template, so an alarm of another "
    "stack is never reported.",
    "CV102": "New in issue 11: no finding on the corpus (none of its 30 pipelines is V2). On "
    "conveyor's own output it names exactly the environment stages, not the self-update stage.",
    "CV103": "New in issue 11: no finding on the corpus (none of its 30 pipelines declares stage "
    "conditions, and its templates are checked one by one). On conveyor's own output from "
    "before issue 11's gate fix (`conveyor synth` at 53542b7, then `conveyor check` on the "
    "cdk.out) it finds every gated alarm, all true: payments 4 (the 5xx and unhealthy-host "
    "alarms of staging and prod), lambda-canary 6; after the fix, none. Its fixtures pass the "
    "deployed stack's template beside the pipeline's, as a cdk.out does.",
    "CV104": "New in issue 11: no finding on the corpus (none of its 30 pipelines declares stage "
    "conditions). On conveyor's own output from before issue 11's gate fix it finds every "
    "alarm production's gate and bake shared, all true: payments 2, lambda-canary 3; after "
    "the fix, none.",
    "CV105": "New in issue 15: 14 findings in 14 templates, all true on review (AWS's and "
    "awslabs' ECS samples, the deployment framework's EC2 and ECS samples, widdix's dedicated "
    "ALB service: an internet-facing ALB forwarding port 80 to the application). On conveyor's "
    "own output only the suppressed listeners of non-production services without a domain.",
    "CV106": "New in issue 15: 4 findings in 4 templates, all true (the AWS Supply Chain SAP "
    "PrivateLink samples, JSON and YAML, use ELBSecurityPolicy-TLS13-1-0-2021-06, which "
    "negotiates TLS 1.0).",
    "CV107": "New in issue 11: no finding on the corpus (none of its 30 pipelines is V2 or "
    "rolls back). It fired on conveyor's own production stage before issue 11 split off "
    "Approve-<env>; its fixtures cover both layouts.",
    "CV108": "New in issue 11: no finding on the corpus (none of its 30 pipelines rolls back). "
    "A stage that makes the change set again before executing it (production before issue 11) "
    "is not reported; one that only executes it (the split without CREATE_UPDATE) is.",
    "CV110": "New in issue 10: no finding on the corpus (none of its pipelines deploys a "
    "function by object version); conveyor's own pre-fix output is its true case (the shared "
    "build key, its bad fixture), the fix its false one.",
    "CV114": "New in issue 11: no finding on the corpus (12 of its 32 pipeline templates have a "
    "manual approval, none declares a stage condition). On conveyor's own output from before "
    "the fix (Approve-prod holding the approval and the `before` job, the gate on Deploy-prod "
    "only) it finds both, true; after "
    "the fix (the gate on Approve-prod and Before-prod, since FM124's fix Release-prod), none. "
    "A job no approval precedes is "
    "not judged: a build is not told apart from a migration.",
    "CV115": "New in issue 11: no finding on the corpus (none of its 32 pipeline templates "
    "executes a change set). On conveyor's own output from before the "
    "fix (conveyor-<env>) it finds production's Approve-<env> change set, true; after it "
    "(conveyor-<env>-#{codepipeline.PipelineExecutionId}), none.",
    "CV111": "New in issue 10: 2 findings in 2 templates, true (aws-samples' two ECS "
    "blue/green pipelines give their CloudFormation service role iam:PutRolePolicy and "
    "iam:AttachRolePolicy on '*'; one writes its trust policy as a JSON string, read since the "
    "issue 16 review); conveyor's own pre-fix environment roles are true cases.",
    "CV120": "New in issue 10: 4 findings in 3 templates, true (aws-samples' two ECS "
    "blue/green pipelines and aws-deployment-framework's pipeline management stack give their "
    "CloudFormation service role security-group rule changes, and ADF lambda:UpdateFunctionCode "
    "and DeleteFunction, on '*'); conveyor's own pre-fix environment, bootstrap and pipeline "
    "stack roles are true cases. Extended in the issue 15 review to sqs:DeleteQueue, "
    "sqs:SetQueueAttributes, events:PutTargets and events:DeleteRule (a worker's queue, a "
    "job's failure rule): the same 4 findings on the corpus, none added; conveyor's pre-fix "
    "environment roles of worker-service and scheduled-job (SQS and EventBridge calls on '*') "
    "are true cases. Extended in the issue 15 review to application-autoscaling:"
    "DeregisterScalableTarget, application-autoscaling:DeleteScalingPolicy and cloudwatch:"
    "DeleteAlarms (a service's scaling and its alarms): the same 4 findings in 3 templates on "
    "the corpus, none added; conveyor's pre-fix environment roles of every example that scales "
    "a service (backend-service, payments, validated-service, worker-service) and every "
    "pipeline stack's role (its global tables' replica scaling calls) are true cases. "
    "Extended in issue 10 to ecr:DeleteRepository and ecr:SetRepositoryPolicy (the image "
    "repository of the pipeline stack and of another region's support stack): the same 4 "
    "findings in 3 templates, none added; conveyor's pre-fix pipeline stack and region stack "
    "roles (ECR calls on '*') are true cases.",
    "CV121": "New in issue 10: no finding on the corpus (none of its 32 pipeline templates "
    "declares ArtifactStores or a cross-region action). Its fixtures cover a us-west-2 "
    "CloudFormation action with only the pipeline's own region in ArtifactStores (bad) and "
    "the same action with a store for us-west-2 (good); conveyor's own pipelines, whose "
    "actions carry no Region, pass.",
    "CV127": "New in issue 10: no finding on the corpus (none of its pipeline templates "
    "declares ArtifactStores or a cross-region action). Its fixtures cover a us-west-2 "
    "CloudFormation action handed the pipeline template's package bucket as CodeBucket (bad), "
    "and the same action handed the bucket of its region by name (good); conveyor's own "
    "pipelines pass (examples/lambda-multi-region.yaml hands production's stack in us-east-1 "
    "the package store of that region, by name), and the same pipeline handed the pipeline "
    "stack's package bucket instead is reported (tests/synth/test_other_region_lambda.py). The "
    "approval check (review of issue 10) has its own fixtures: a notice reading a us-west-2 "
    "stack by `--stack-name` without `--region` (bad), and with it, about the own region, "
    "another stack, or with no CLI command (good); it found the pre-fix multi-region "
    "example's Approve-prod notice.",
    "CV129": "New in issue 15 (review): no finding on the corpus. Of its 970 real-world "
    "templates, two task definitions run a private ECR image (awslabs' ecs-refarch "
    "product-service and aws-samples' ecs-blue-green-deployment service), both for EC2 (no "
    "RequiresCompatibilities), where the container instance role may pull: not judged, rightly. "
    "Its fixtures cover conveyor's output before the issue 15 review fix (a sidecar from a "
    "private repository given by name beside the service's granted image: bad), and after it, "
    "with AWS's managed execution policy, an execution role of another stack and an EC2-only "
    "task (good); tests/synth/test_sidecars.py finds the pre-fix output and passes today's.",
    "CV116": "New in issue 11: no finding on the corpus (none of its pipelines has a "
    "pull-request trigger). Its fixtures cover a pull-request pipeline with an ECS deploy (bad) "
    "and a build-only pull-request pipeline beside a push pipeline that deploys (good); on "
    "conveyor's own output the {app}-pr pipeline passes.",
    "CV118": "New in issue 11: no finding on the corpus (none of its 32 pipeline templates "
    "declares a stage condition). On conveyor's own output from before the fix (payments "
    "without its `before` job, `conveyor synth` at ce64923, then `conveyor check`: the gate on "
    "Approve-prod and Deploy-prod) it finds Deploy-prod, 1 finding, true; after it (the gate on "
    "Approve-prod and Release-prod), none. Its fixtures cover an alarm gate on a "
    "stage that rolls back on failure and a window on one that bakes (bad), and the gate "
    "on a stage of its own before the deploy stage (good).",
    "CV119": "New in issue 11: no finding on the corpus (none of its pipelines has a trigger). "
    "On conveyor's own output it finds validated-service's v* tag filter, true to the letter; "
    "the example states its repository's tag ruleset in source.github.tag_creation, which the "
    "pipeline records as the suppression's reason. Low: what limits the risk (who may create "
    "the tags) is a repository setting no template shows.",
    "CV117": "New in issue 11: no finding on the corpus (none of its pipelines has a "
    "pull-request trigger). Its fixtures cover a pull-request test job sharing a release build "
    "role that may push and pass roles (bad), and one whose role only writes logs (good).",
    "CV122": "New in issue 15: no finding on the corpus. Six of its ECS services behind a load "
    "balancer run with public addresses: five take their security group from another stack "
    "(Fn::ImportValue: not judged), and widdix's fargate/service-cluster-alb admits the load "
    "balancer's security group only (not reported, true). Its fixtures cover a range open to "
    "0.0.0.0/0 around the container port (bad) and a public task admitting the load balancer "
    "only beside an open port the task does not listen on and a private service (good); on "
    "conveyor's own output (placement: public) it finds nothing.",
    "CV124": "New in issue 15: 3 findings in 2 templates, true: cfn-lint's cfn-gather "
    "integration fixture (two services, no load balancer, an unchecked app container) and "
    "aws-solutions-constructs' fargate-kinesisstreams snapshot (a Fargate producer with no load "
    "balancer and no health check). Its fixtures cover an unchecked essential container beside "
    "a checked non-essential one (bad), and a checked one, a service behind a load balancer, one "
    "registered in Cloud Map and one whose task definition is another stack's (good); on "
    "conveyor's own output (kind: backend, which requires create.health_command) it finds "
    "nothing.",
    "CV126": "New in issue 15: 3 findings in 3 templates, true: the same AWS sample "
    "(ECS_Schedule_Example, in the aws-cloudformation-templates repositories' three copies) "
    "runs its task from a scheduled EventBridge rule with no DeadLetterConfig. rain's "
    "schedule-off test schedules a function (not judged: CV099's ground), and SAM's "
    "eventbridgerule_with_dlq targets no ECS task. Its fixtures cover a Scheduler schedule and a "
    "scheduled rule starting ECS tasks without a queue (bad), and the same with queues beside a "
    "schedule of a function and an event-driven task (good); on conveyor's own output (kind: "
    "job) it finds nothing.",
    "CV123": "New in issue 17: no finding on the corpus, and none missed: no file of it holds a "
    "URL with anything before the host's '@' or a query parameter named like a credential "
    "(grep -E over all its files). Its fixtures cover a basic-auth password in a "
    "Lambda invoke action's UserParameters JSON (bad) and a git@ user name, a token passed by "
    "Fn::Sub of a parameter, a {{resolve:secretsmanager:...}} password, ordinary queries and a "
    "SECRETS_MANAGER build variable (good); on conveyor's own output it finds nothing (the spec "
    "refuses such a validate.http.url).",
    "CV125": "New in issue 15: 15 findings in 13 templates, all true to the letter. 12 are "
    "dead-letter queues no alarm watches (aws-solutions-constructs' integration snapshots of "
    "queue patterns, SAM's EventBridge rule with a DLQ, Control Tower customizations' FIFO "
    "queue, cfn-lint's fixtures, a StackSets log setup); 3 are consumed queues without one "
    "(F5's BIG-IP autoscale role reading its lifecycle queue twice, cfn-lint's FIFO event "
    "source mapping). Medium, not high: the messages are kept for the retention period, and "
    "lost only if nobody looks in time. Its fixtures cover a role consuming a queue without a "
    "redrive policy and an EventBridge dead-letter queue whose alarm has no action (bad), and "
    "a redriven queue with an alarmed dead-letter queue, an alarm through metric math and a "
    "queue with no consumer in the template (good); on conveyor's own output (the failed-events "
    "queue, a worker's queue) it finds nothing.",
}
# Findings and templates per rule on the corpus (the precision report's "after" column, issue
# 16's closing note): the evidence of every rule not reviewed finding by finding above.
CORPUS_COUNTS: dict[str, tuple[int, int]] = {
    "CV001": (125, 81),
    "CV002": (112, 77),
    "CV003": (10, 10),
    "CV004": (5, 5),
    "CV005": (11, 11),
    "CV006": (159, 103),
    "CV007": (326, 208),
    "CV008": (12, 10),
    "CV009": (27, 19),
    "CV010": (3, 3),
    "CV012": (34, 30),
    "CV013": (65, 57),
    "CV014": (22, 21),
    "CV016": (26, 18),
    "CV020": (4, 4),
    "CV021": (4, 4),
    "CV022": (5, 5),
    "CV030": (1, 1),
    "CV031": (10, 6),
    "CV032": (18, 13),
    "CV033": (30, 19),
    "CV034": (12, 10),
    "CV035": (214, 120),
    "CV036": (57, 44),
    "CV040": (2, 2),
    "CV042": (1, 1),
    "CV045": (35, 32),
    "CV050": (141, 95),
    "CV051": (341, 131),
    "CV054": (3, 1),
    "CV056": (29, 24),
    "CV060": (5, 5),
    "CV062": (15, 15),
    "CV063": (62, 26),
    "CV071": (1, 1),
    "CV073": (14, 7),
    "CV074": (7, 7),
    "CV075": (42, 21),
    "CV076": (215, 121),
    "CV078": (19, 16),
    "CV080": (28, 28),
    "CV081": (20, 14),
    "CV082": (33, 17),
    "CV083": (28, 28),
    "CV084": (9, 9),
    "CV085": (9, 9),
    "CV086": (1, 1),
    "CV089": (41, 25),
    "CV090": (688, 688),
    "CV091": (1, 1),
    "CV092": (24, 20),
    "CV094": (4, 4),
    "CV095": (21, 14),
    "CV098": (13, 8),
    "CV099": (1, 1),
}


def precision(rule_id: str) -> str:
    """What the rule's page says of its precision: the review above, else its corpus counts."""
    if rule_id in PRECISION:
        return PRECISION[rule_id]
    findings, templates = CORPUS_COUNTS.get(rule_id, (0, 0))
    if not findings:
        return (
            "No finding on the corpus: its true and false cases are the fixtures "
            f"(`tests/rules/fixtures/{rule_id}`)."
        )
    return (
        f"{findings} finding{'s' if findings != 1 else ''} in {templates} "
        f"template{'s' if templates != 1 else ''}, not yet judged finding by finding (the "
        "counts are where that judgement starts)."
    )


def rule_page(rule: Rule) -> str:
    types = ", ".join(f"`{t}`" for t in rule.resource_types) if rule.resource_types else ""
    if rule.resource_types == ("*",):
        types = "every resource"
    scope = types or "the whole template"
    fms = ", ".join(rule.failure_modes) or "none (meta rule)"
    return (
        f"# {rule.id}: {rule.title}\n\n"
        f"- Severity: **{rule.severity.label}**\n"
        f"- Looks at: {scope}\n"
        f"- Failure modes: {fms}\n\n"
        f"## What\n\n{rule.doc}\n\n"
        f"## Why\n\n{rule.why}\n\n"
        f"## Precision on real templates\n\n{precision(rule.id)} "
        f"{CORPUS_NOTE}\n\n"
        "## How to fix\n\n"
        f"- **CloudFormation**: {rule.fix_cloudformation}\n"
        f"- **CDK**: `{rule.fix_cdk}`\n"
        f"- **conveyor.yaml**: {rule.fix_conveyor}\n\n"
        "## Suppress (with a reason)\n\n"
        "```yaml\nMetadata:\n  conveyor:\n    suppress:\n"
        f'      - rule: {rule.id}\n        reason: "why this is acceptable here"\n```\n'
    )


def index_page() -> str:
    lines = [
        "# conveyor check rules",
        "",
        "Generated by `python -m conveyor.rules.docs`; do not edit by hand.",
        "",
        "| id | severity | title | failure modes |",
        "|---|---|---|---|",
    ]
    for rule in RULES:
        fms = ", ".join(rule.failure_modes) or "-"
        lines.append(
            f"| [{rule.id}]({rule.id}.md) | {rule.severity.label} | {rule.title} | {fms} |"
        )
    covered: dict[str, list[str]] = {}
    for rule in RULES:
        for fm in rule.failure_modes:
            covered.setdefault(fm, []).append(rule.id)
    lines += ["", "## Failure modes and the rules that cover them", ""]
    lines += [f"- {fm}: {', '.join(ids)}" for fm, ids in sorted(covered.items())]
    lines += ["", "## Failure modes added after the seed catalogue", ""]
    lines += [f"- **{fm}**: {what}" for fm, what in ADDED_FAILURE_MODES.items()]
    lines += ["", "## Failure modes no template shows", ""]
    lines += [f"- **{fm}**: {why}" for fm, why in NOT_VISIBLE.items()]
    lines += ["", "## Limits of the heuristic rules", ""]
    lines += [f"- **{fm}**: {why}" for fm, why in PARTLY_VISIBLE.items()]
    lines += [
        "",
        f"Seed post-mortems: {', '.join(f'{s} = {n}' for s, n in SEEDS.items())} "
        "(`shared/reference/seeds/`).",
        "",
    ]
    return "\n".join(lines)


def pages() -> dict[str, str]:
    out = {f"{rule.id}.md": rule_page(rule) for rule in RULES}
    out["README.md"] = index_page()
    return out


def main(argv: list[str]) -> int:
    if argv and argv[0].startswith("-"):
        # An option (--help) is no folder: it once wrote 84 pages into ./--help.
        print("usage: python -m conveyor.rules.docs [FOLDER]  (default docs/rules)")
        return 0 if argv[0] in ("-h", "--help") else 2
    target = Path(argv[0]) if argv else Path("docs/rules")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in pages().items():
        (target / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(pages())} pages to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
