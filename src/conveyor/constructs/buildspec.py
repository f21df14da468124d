"""The buildspec conveyor generates: plain data, no CDK, so it can be read and tested alone.

Account, region and repository come from CodeBuild's environment, never from literals (FM25).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from conveyor.constructs.artifact_store import SOURCE_VERSION_METADATA
from conveyor.constructs.image_repository import BUILD_CACHE_TAG, DEPLOYED_TAG_PREFIX
from conveyor.spec.models import Build

# Names of the variables the build project sets; the buildspec reads only these.
REPOSITORY_URI = "REPOSITORY_URI"
IMAGE_REPO_NAME = "IMAGE_REPO_NAME"
CONTAINER_NAME = "CONTAINER_NAME"
COMMIT_ID = "COMMIT_ID"
LOGIN_USERNAME = "REGISTRY_LOGIN_USERNAME"
LOGIN_PASSWORD = "REGISTRY_LOGIN_PASSWORD"  # noqa: S105 - a variable name, not a password
# The image repositories of the environments in other regions (regional_support.py), one URI
# each, separated by spaces: the build pushes the same image there.
REPLICA_REPOSITORY_URIS = "REPLICA_REPOSITORY_URIS"

# Build tools come from ECR Public, never anonymously from Docker Hub: CodeBuild hosts share
# addresses, and Docker Hub limits anonymous pulls per address ("toomanyrequests").
# https://docs.aws.amazon.com/codebuild/latest/userguide/troubleshooting.html
# ECR Public's mirrors: https://gallery.ecr.aws/vend/tonistiigi/binfmt and
# https://gallery.ecr.aws/vend/moby/buildkit
BINFMT_IMAGE = "public.ecr.aws/vend/tonistiigi/binfmt:latest"
BUILDKIT_IMAGE = "public.ecr.aws/vend/moby/buildkit:buildx-stable-1"

IMAGE_DEFINITIONS = "imagedefinitions.json"
IMAGE_DETAIL = "imageDetail.json"
EXPORTED_VARIABLES = ("IMAGE_URI", "IMAGE_TAG", "IMAGE_DIGEST")


# What a Lambda build installs dependencies for: pip on the x86 build host would otherwise
# fetch wheels for x86 and the build image's Python, which fail to import on an arm64 function
# or another Python version. Commands write
#   pip install --platform "$LAMBDA_PIP_PLATFORM" --only-binary=:all: --implementation cp \
#     --python-version "$LAMBDA_PYTHON_VERSION" --target package -r requirements.txt
# https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
LAMBDA_ARCHITECTURE = "LAMBDA_ARCHITECTURE"
LAMBDA_PIP_PLATFORM = "LAMBDA_PIP_PLATFORM"
LAMBDA_PYTHON_VERSION = "LAMBDA_PYTHON_VERSION"
PIP_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def lambda_build_variables(runtime: str, architecture: str) -> dict[str, str]:
    """The build's variables naming the function's architecture (and, for Python, the pip
    platform and version its wheels must match)."""
    variables = {LAMBDA_ARCHITECTURE: architecture}
    if runtime.startswith("python"):
        variables[LAMBDA_PIP_PLATFORM] = PIP_PLATFORMS[architecture]
        variables[LAMBDA_PYTHON_VERSION] = runtime.removeprefix("python")
    return variables


def deploy_file_variable(file_name: str) -> str:
    """The variable through which the stack hands a deploy document to the build."""
    return "CONVEYOR_FILE_" + "".join(c if c.isalnum() else "_" for c in file_name).upper()


# Where a Lambda build unpacks the function's package: the Build artifact is that directory.
PACKAGE_DIRECTORY = ".conveyor-package"
# The release is a version of one object in the pipeline's package store (PackageStore): the
# build uploads the package there and exports the version, which the environment stacks deploy.
PACKAGE_BUCKET = "PACKAGE_BUCKET"
PACKAGE_KEY = "PACKAGE_KEY"
PACKAGE_VERSION = "PACKAGE_VERSION"


# A pull-request build's image, as a Docker archive in its output artifact: the image scans read
# it there (trivy `image --input`, syft `docker-archive:`), since nothing is pushed.
IMAGE_ARCHIVE = "image.tar"


def build_spec(
    build: Build,
    *,
    deploy_files: Sequence[str] = (),
    package: str | None = None,
    push: bool = True,
    replicas: bool = False,
) -> dict[str, Any]:
    """The buildspec for `build`: user commands, then (for Docker) build, push, describe.

    `deploy_files` are documents the stack derives (CodeDeploy's taskdef.json and appspec.yaml
    per environment); the build writes them next to the image files so one artifact carries
    everything a deploy action reads (FM26). `package`: the Lambda package the commands write;
    the artifact holds its contents, so CloudFormation can hand the artifact to Lambda.

    `replicas`: the image also goes to the repositories in REPLICA_REPOSITORY_URIS
    (replica_commands).

    `push=False` is a pull request's build (stages/pull_request.py): the image is built to prove
    it builds and written to `IMAGE_ARCHIVE` for the image scans; no registry login, no layer
    cache read from or written to the registry (a pull request must not poison the cache the
    release builds read), nothing pushed, no package uploaded, no deploy documents.
    """
    commands = ["set -euo pipefail", *build.commands]
    files: list[str]
    if build.docker is None:
        files = ["**/*"]
        pre_build: list[str] = []
    elif not push:
        pre_build = _docker_pre_build(build, push=False)
        commands += _docker_build_only(build)
        files = [IMAGE_ARCHIVE]
    else:
        pre_build = _docker_pre_build(build, replicas=replicas)
        commands += _docker_build(build, replicas=replicas)
        files = [IMAGE_DEFINITIONS, IMAGE_DETAIL]
    for name in deploy_files:
        commands.append(f"printf '%s' \"${deploy_file_variable(name)}\" > {shlex.quote(name)}")
        if build.docker is not None:
            files.append(name)
    artifacts: dict[str, Any] = {"files": files}
    if package is not None and build.docker is None:
        quoted = shlex.quote(package)
        commands += [
            f"test -f {quoted} || {{ echo 'conveyor: the build wrote no {package}; make "
            "build.commands write it, or set deploy.lambda.function.package' >&2; exit 1; }",
            f"rm -rf {PACKAGE_DIRECTORY}",
            f"python3 -m zipfile -e {quoted} {PACKAGE_DIRECTORY}",
        ]
        if push:
            commands.append(
                f'{PACKAGE_VERSION}="$(aws s3api put-object --bucket "${PACKAGE_BUCKET}" '
                f'--key "${PACKAGE_KEY}" --body {quoted} --query VersionId --output text)"'
            )
        artifacts = {"base-directory": PACKAGE_DIRECTORY, "files": ["**/*"]}
    spec: dict[str, Any] = {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {},
        "artifacts": artifacts,
        # Language package caches stay on the build host between runs (FM29).
        "cache": {"paths": ["/root/.cache/pip/**/*", "/root/.npm/**/*", "/root/.cache/uv/**/*"]},
    }
    if not push:
        pass  # nothing published: no image or package version to hand on
    elif build.docker is not None:
        spec["env"]["exported-variables"] = list(EXPORTED_VARIABLES)
    elif package is not None:
        spec["env"]["exported-variables"] = [PACKAGE_VERSION]
    runtimes = build.runtimes.runtime_versions()
    if runtimes:
        spec["phases"]["install"] = {"runtime-versions": runtimes}
    if pre_build:
        spec["phases"]["pre_build"] = {"commands": pre_build}
    spec["phases"]["build"] = {"commands": commands}
    return spec


def _docker_pre_build(build: Build, *, push: bool = True, replicas: bool = False) -> list[str]:
    docker = build.docker
    assert docker is not None
    dockerfile = docker.dockerfile
    lines = [
        "set -euo pipefail",
        # prevents FM28: fail with a sentence, not a docker stack trace, when the file is absent.
        f"test -f {shlex.quote(dockerfile)} || {{ echo 'conveyor: no Dockerfile at "
        f"{dockerfile}; set build.docker.file in conveyor.yaml' >&2; exit 1; }}",
    ]
    if push:
        lines += [
            # prevents FM27: log in to the account's registry before any pull or push.
            f'REGISTRY="${{{REPOSITORY_URI}%%/*}}"',
            'aws ecr get-login-password --region "$AWS_REGION" '
            '| docker login --username AWS --password-stdin "$REGISTRY"',
        ]
        if replicas:
            # Each other region's registry too: a login token is valid for one registry.
            # https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html
            lines.append(
                f"for URI in ${REPLICA_REPOSITORY_URIS}; do {_REPLICA_REGION} "
                'aws ecr get-login-password --region "$REPLICA_REGION" '
                '| docker login --username AWS --password-stdin "${URI%%/*}"; done'
            )
    if docker.platform != "linux/amd64":
        # CodeBuild hosts are x86: QEMU emulation (binfmt, pinned) lets buildx build for the
        # platform the service runs on.
        lines.append(f"docker run --privileged --rm {BINFMT_IMAGE} --install arm64")
    if not push:
        # A pull request's build gets no registry credentials (the code it runs is anyone's):
        # base images are pulled anonymously.
        return lines
    if docker.login is not None:
        lines.append(
            f'echo "${LOGIN_PASSWORD}" | docker login --username "${LOGIN_USERNAME}" '
            f"--password-stdin {shlex.quote(docker.login.registry)}"
        )
    lines += [
        # Tag by commit; S3 sources have no commit, so their object version or the build
        # number stands in. Tags allow only [A-Za-z0-9_.-].
        f'SOURCE_REV="${{{COMMIT_ID}:-${{CODEBUILD_RESOLVED_SOURCE_VERSION:-'
        f'build-$CODEBUILD_BUILD_NUMBER}}}}"',
        "IMAGE_TAG=\"$(printf '%s' \"$SOURCE_REV\" | tr -c 'A-Za-z0-9_.-' '-' | cut -c1-40)\"",
    ]
    return lines


# The region of the repository URI $URI, `<account>.dkr.ecr.<region>.<suffix>/<name>`.
_REPLICA_REGION = 'REPLICA_REGION="${URI#*.dkr.ecr.}"; REPLICA_REGION="${REPLICA_REGION%%.*}";'


def replica_commands() -> list[str]:
    """After the build: the image, by digest, in each other region's repository.

    A build that pushed it pushed it there too (buildx pushes one manifest to every --tag, so
    the digest is the same). A re-run reusing an image already in the pipeline's repository
    (or a region added later) copies it: `imagetools create` with one source that is not an
    index and `--prefer-index=false` copies the manifest as it is ("attempts to preserve the
    source manifest format", https://docs.docker.com/reference/cli/docker/buildx/imagetools/create/),
    so the copy has the same digest. Either way the job reads the digest back there and fails
    unless it is the one every environment deploys: the stack in that region pins it.
    """
    describe = (
        'aws ecr describe-images --region "$REPLICA_REGION" '
        f'--repository-name "${IMAGE_REPO_NAME}" --image-ids imageDigest="$IMAGE_DIGEST"'
    )
    return [
        f"for URI in ${REPLICA_REPOSITORY_URIS}; do {_REPLICA_REGION} "
        f"if ! {describe} >/dev/null 2>&1; then "
        'docker buildx imagetools create --prefer-index=false --tag "$URI:$IMAGE_TAG" '
        '"$IMAGE_URI"; fi; '
        f"{describe} --query 'imageDetails[0].imageDigest' --output text >/dev/null || "
        '{ echo "conveyor: $IMAGE_DIGEST is not in $URI after the copy; the environments in '
        'its region deploy that digest; retry the build" >&2; exit 1; }; '
        'echo "conveyor: $IMAGE_URI is in $URI"; done',
    ]


def _docker_build(build: Build, *, replicas: bool = False) -> list[str]:
    docker = build.docker
    assert docker is not None
    cache = f"type=registry,ref=${REPOSITORY_URI}:{BUILD_CACHE_TAG}"
    args = [
        "docker buildx build",
        f"--platform {docker.platform}",
        f"--file {shlex.quote(docker.dockerfile)}",
        # FM29: the registry holds the layer cache, so a fresh CodeBuild host still reuses layers.
        f'--cache-from "{cache}"',
        f'--cache-to "{cache},mode=max,image-manifest=true,oci-mediatypes=true"',
        f'--tag "${REPOSITORY_URI}:$IMAGE_TAG"',
        *(["$REPLICA_TAGS"] if replicas else []),
        "--provenance=false",
        "--push",
    ]
    if docker.target:
        args.append(f"--target {shlex.quote(docker.target)}")
    for name, value in sorted(docker.build_args.items()):
        args.append(f"--build-arg {shlex.quote(f'{name}={value}')}")
    args.append(shlex.quote(docker.context))
    describe = (
        f'aws ecr describe-images --repository-name "${IMAGE_REPO_NAME}" '
        '--image-ids imageTag="$IMAGE_TAG"'
    )
    tags = (
        [
            # One build, every repository: the same manifest under each --tag. Unquoted
            # where used: one word per tag (URIs hold no spaces).
            'REPLICA_TAGS=""; for URI in $' + REPLICA_REPOSITORY_URIS + "; do "
            'REPLICA_TAGS="$REPLICA_TAGS --tag $URI:$IMAGE_TAG"; done'
        ]
        if replicas
        else []
    )
    return [
        *tags,
        # Tags are immutable: a re-run of the same commit reuses the pushed image instead of
        # failing on push.
        f"if {describe} >/dev/null 2>&1; then "
        'echo "conveyor: image $IMAGE_TAG already in ECR; reusing it"; else '
        "docker buildx create --name conveyor --driver docker-container "
        f"--driver-opt image={BUILDKIT_IMAGE} --use "
        f"&& {' '.join(args)}; fi",
        f"IMAGE_DIGEST=\"$({describe} --query 'imageDetails[0].imageDigest' --output text)\"",
        # Deploy by digest: the same bytes go to every environment (never rebuilt).
        f'IMAGE_URI="${REPOSITORY_URI}@$IMAGE_DIGEST"',
        # prevents FM26: the ECS deploy action reads imagedefinitions.json; CodeDeploy reads
        # imageDetail.json.
        f'printf \'[{{"name":"%s","imageUri":"%s"}}]\' "${CONTAINER_NAME}" '
        f'"$IMAGE_URI" > {IMAGE_DEFINITIONS}',
        f'printf \'{{"ImageURI":"%s"}}\' "$IMAGE_URI" > {IMAGE_DETAIL}',
        f"cat {IMAGE_DEFINITIONS}",
        *(replica_commands() if replicas else []),
    ]


def _docker_build_only(build: Build) -> list[str]:
    """Build the image into a Docker archive (the docker-container driver exports it with
    `--output type=docker,dest=...`), for a pull request: nothing leaves the build host but
    the archive in the pipeline's own artifact.
    https://docs.docker.com/build/exporters/oci-docker/ (type=docker needs the docker-container
    driver; the tarball is what `docker load` and the scanners read)."""
    docker = build.docker
    assert docker is not None
    args = [
        "docker buildx build",
        f"--platform {docker.platform}",
        f"--file {shlex.quote(docker.dockerfile)}",
        f"--output type=docker,dest={IMAGE_ARCHIVE}",
        "--provenance=false",
    ]
    if docker.target:
        args.append(f"--target {shlex.quote(docker.target)}")
    for name, value in sorted(docker.build_args.items()):
        args.append(f"--build-arg {shlex.quote(f'{name}={value}')}")
    args.append(shlex.quote(docker.context))
    return [
        "docker buildx create --name conveyor --driver docker-container "
        f"--driver-opt image={BUILDKIT_IMAGE} --use",
        " ".join(args),
        f"ls -l {IMAGE_ARCHIVE}",
    ]


DEPLOY_ENVIRONMENT = "DEPLOY_ENVIRONMENT"
# The region of the repository an environment in another region deploys from (unset: the
# pipeline's, the job's own AWS_REGION).
IMAGE_REGION = "IMAGE_REGION"

# The alarms of the environment's gate, one name a line, which `Release-<env>`'s MarkDeployed
# action passes (unset elsewhere): the job reads them again before it does anything.
GATE_ALARMS = "GATE_ALARMS"


def gate_alarm_commands() -> list[str]:
    """Fail the job when an alarm of the environment's gate is in ALARM or no longer exists
    (nothing when the action passes no GATE_ALARMS).

    `Release-<env>`'s before-entry condition holds the gate's CloudWatchAlarm rules and its
    DeploymentWindow rule (one condition per stage:
    https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_BeforeEntryConditions.html),
    and "After the deployment window opens, CodePipeline does not check the CloudWatchAlarm
    alarm again" (https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html):
    an approval given Friday evening would run the `before` job and deploy on Monday with the
    alarms read on Friday. The stage's first action reads them again when it starts, so
    nothing in the stage runs while one fires.
    DescribeAlarms without --alarm-types answers metric alarms only, the ones the pipeline
    role's gate rules may read too (their DescribeAlarms is scoped to the alarms' ARNs, and
    composite alarms need it on `*`):
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
    """
    return [
        f'if [ -n "${{{GATE_ALARMS}:-}}" ]; then '
        f'mapfile -t NAMES <<< "${GATE_ALARMS}"; '
        # Each alarm's name and state, one alarm a line (tab between them), so an alarm the
        # answer lacks (deleted since the stage's entry read it) is told from a quiet one.
        'READ="$(aws cloudwatch describe-alarms --alarm-names "${NAMES[@]}" '
        "--query 'MetricAlarms[].[AlarmName,StateValue]' --output text)\" || { "
        # Fail closed: a denied or throttled read (the CLI exits non-zero once its retries
        # are spent) must not pass as "none in ALARM", whatever errexit does in this shell.
        'echo "conveyor: could not read the gate alarms ${NAMES[*]} (see the error above); '
        'nothing in this stage ran; retry the stage" >&2; exit 1; }; '
        "declare -A STATE; "
        "while IFS=$'\\t' read -r ALARM_NAME ALARM_STATE; do "
        # `if`, not `&&`: a loop whose last test failed would end with status 1 under set -e.
        'if [ -n "$ALARM_NAME" ]; then STATE["$ALARM_NAME"]="$ALARM_STATE"; fi; '
        'done <<< "$READ"; '
        'FIRING=""; MISSING=""; for N in "${NAMES[@]}"; do '
        'case "${STATE[$N]:-}" in "") MISSING="$MISSING $N";; ALARM) FIRING="$FIRING $N";; esac; '
        "done; "
        'if [ -n "$MISSING" ]; then '
        'echo "conveyor: gate alarms not found:$MISSING; the gate cannot be read, so nothing '
        "in this stage ran; restore the alarms (or remove them from the gate) and retry the "
        'stage" >&2; exit 1; fi; '
        'if [ -n "$FIRING" ]; then '
        'echo "conveyor: gate alarms in ALARM:$FIRING; nothing in this stage ran (its '
        "entry may have read them before the deployment window opened); retry the stage when "
        'they are OK" >&2; exit 1; fi; '
        'echo "conveyor: gate alarms not in ALARM: ${NAMES[*]}"; fi',
    ]


def mark_deployed_buildspec() -> dict[str, Any]:
    """Tag the image an environment deploys `deployed-<environment>-<digest>`, which the
    repository's lifecycle policy keeps (ImageRepository).

    Re-tagging is a manifest copy: batch-get-image, then put-image with the new tag; tags are
    immutable, so the tag carries the digest and a re-run finds it already there.
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html
    ECR answers a repeated put-image with ImageAlreadyExistsException, or on a repository with
    immutable tags with ImageTagAlreadyExistsException even for the same digest
    (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html#API_PutImage_Errors,
    https://github.com/aws/containers-roadmap/issues/2179). The tag names its digest, so either
    means this image already carries it.
    An image no longer in the repository (its lifecycle expired it while the release waited for
    its approval, when no earlier environment's deployed tag kept it) is not an error of the
    call: BatchGetImage answers with an ImageNotFound failure and no image
    (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html,
    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageFailure.html), so the
    job says so and fails, before anything in the environment changed.
    """
    get = (
        f'aws ecr batch-get-image $REGION_FLAG --repository-name "${IMAGE_REPO_NAME}" '
        '--image-ids imageDigest="$DIGEST" --output text'
    )
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "build": {
                "commands": [
                    "set -euo pipefail",
                    *gate_alarm_commands(),
                    # An environment in another region deploys its region's copy of the image
                    # (replica_commands): that is the one its tag must keep. Unquoted where
                    # used: empty (the job's own region) or two words.
                    f'REGION_FLAG=""; if [ -n "${{{IMAGE_REGION}:-}}" ]; then '
                    f'REGION_FLAG="--region ${IMAGE_REGION}"; fi',
                    'DIGEST="${IMAGE_URI##*@}"',
                    f'TAG="{DEPLOYED_TAG_PREFIX}${DEPLOY_ENVIRONMENT}-${{DIGEST#sha256:}}"',
                    f"MANIFEST=\"$({get} --query 'images[0].imageManifest')\"",
                    f"MEDIA_TYPE=\"$({get} --query 'images[0].imageManifestMediaType')\"",
                    'if [ -z "$MANIFEST" ] || [ "$MANIFEST" = None ]; then '
                    'echo "conveyor: $IMAGE_URI is no longer in $IMAGE_REPO_NAME (the '
                    "repository's lifecycle expired it while the release waited); release "
                    'again, which builds and pushes it anew" >&2; exit 1; fi',
                    'if OUT="$(aws ecr put-image $REGION_FLAG --repository-name "$IMAGE_REPO_NAME" '
                    '--image-tag "$TAG" --image-digest "$DIGEST" --image-manifest "$MANIFEST" '
                    '--image-manifest-media-type "$MEDIA_TYPE" 2>&1)"; then '
                    'echo "conveyor: $IMAGE_URI tagged $TAG"; '
                    'else case "$OUT" in '
                    "*ImageAlreadyExistsException*|*ImageTagAlreadyExistsException*) "
                    'echo "conveyor: $IMAGE_URI already tagged $TAG";; '
                    '*) echo "$OUT" >&2; exit 1;; esac; fi',
                ]
            }
        },
    }


# The MarkDeployed job of a Lambda environment: the build's package version it copies (the
# action passes #{Build.PACKAGE_VERSION}), the environment's key it copies to, and the copy's
# version it exports, which the environment's stack deploys (PackageStore). An environment in
# another region copies into that region's package store (regional_support.py): its action
# names the bucket and the region (by default, the pipeline's package store in its region).
DEPLOYED_KEY = "DEPLOYED_KEY"
DEPLOYED_VERSION = "DEPLOYED_VERSION"
DEPLOYED_BUCKET = "DEPLOYED_BUCKET"
DEPLOYED_REGION = "DEPLOYED_REGION"


def mark_deployed_package_buildspec() -> dict[str, Any]:
    """Copy the release's package (a version of the build key) to the environment's own key,
    which the package store's lifecycle keeps (PackageStore), and export the copy's version.

    - A re-run (a retried stage) finds the copy already current and reuses it.
    - A stage rollback runs it with the earlier execution's build version; when that version
      has expired from the build key, the environment's own earlier copy (found by its
      metadata) is copied again instead.
    - Neither: it fails saying so, before the stack changes.
    The environment's key is in DEPLOYED_BUCKET of DEPLOYED_REGION (another region's package
    store: Lambda reads code only from a bucket in the function's region,
    https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html); every call on it
    goes to that region, and CopyObject copies across regions when sent to the target's
    ("Both the Region that you want to copy the object from and the Region that you want to
    copy the object to must be enabled for your account").
    CopyObject with a source version needs s3:GetObjectVersion on it and s3:PutObject on the
    target, and returns the new version (x-amz-version-id):
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
    HeadObject answers 404 for a missing key or version only to a caller allowed s3:ListBucket
    (403 otherwise), which is how "not there" is told from "not allowed":
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
    """
    meta = SOURCE_VERSION_METADATA
    head = f'aws s3api head-object --bucket "${PACKAGE_BUCKET}"'
    # The environment's key: in its own region's package store (CodeBuild sets AWS_REGION,
    # https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html).
    target = f'--bucket "${DEPLOYED_BUCKET}" --region "${DEPLOYED_REGION}"'
    head_target = f"aws s3api head-object {target}"
    missing = '*"(404)"*|*"Not Found"*'
    return {
        "version": "0.2",
        "env": {"shell": "bash", "exported-variables": [DEPLOYED_VERSION]},
        "phases": {
            "build": {
                "commands": [
                    "set -euo pipefail",
                    f'{DEPLOYED_BUCKET}="${{{DEPLOYED_BUCKET}:-${PACKAGE_BUCKET}}}"',
                    f'{DEPLOYED_REGION}="${{{DEPLOYED_REGION}:-${{AWS_REGION:-}}}}"',
                    *gate_alarm_commands(),
                    # The environment key's current version, and the build version it copies.
                    f'if CURRENT="$({head_target} --key "${DEPLOYED_KEY}" '
                    f'--query \'[VersionId, Metadata."{meta}"]\' --output text 2>&1)"; then :; '
                    f'else case "$CURRENT" in {missing}) CURRENT="";; '
                    '*) echo "$CURRENT" >&2; exit 1;; esac; fi',
                    'read -r CURRENT_VERSION CURRENT_SOURCE <<< "${CURRENT:-none none}"',
                    "SOURCE=''",
                    f'if [ "$CURRENT_SOURCE" = "${PACKAGE_VERSION}" ]; then '
                    f'{DEPLOYED_VERSION}="$CURRENT_VERSION"; '
                    f'echo "conveyor: ${DEPLOYED_KEY} is already package version '
                    f'${PACKAGE_VERSION}"; '
                    f'elif OUT="$({head} --key "${PACKAGE_KEY}" --version-id "${PACKAGE_VERSION}" '
                    '--query VersionId --output text 2>&1)"; then '
                    f'SOURCE="${PACKAGE_BUCKET}/${PACKAGE_KEY}?versionId=${PACKAGE_VERSION}"; '
                    f'else case "$OUT" in {missing}) ;; *) echo "$OUT" >&2; exit 1;; esac; fi',
                    # A rollback to a release whose build version has expired: the copy this
                    # environment made of it, if its key still keeps it.
                    f'if [ -z "${{{DEPLOYED_VERSION}:-}}" ] && [ -z "$SOURCE" ]; then '
                    f'VERSIONS="$(aws s3api list-object-versions {target} '
                    f'--prefix "${DEPLOYED_KEY}" --query \'Versions[].VersionId\' --output text)"; '
                    'for V in $VERSIONS; do [ "$V" = None ] && continue; '
                    f'FROM="$({head_target} --key "${DEPLOYED_KEY}" --version-id "$V" '
                    f'--query \'Metadata."{meta}"\' --output text)"; '
                    f'if [ "$FROM" = "${PACKAGE_VERSION}" ]; then '
                    f'SOURCE="${DEPLOYED_BUCKET}/${DEPLOYED_KEY}?versionId=$V"; break; fi; '
                    "done; fi",
                    f'if [ -z "${{{DEPLOYED_VERSION}:-}}" ] && [ -z "$SOURCE" ]; then '
                    f'echo "conveyor: package version ${PACKAGE_VERSION} of ${PACKAGE_KEY} has '
                    f"expired and ${DEPLOYED_KEY} keeps no copy of it; release a newer build "
                    f'(retention.artifact_days bounds how long a build waits to be deployed)" >&2; '
                    "exit 1; fi",
                    f'if [ -z "${{{DEPLOYED_VERSION}:-}}" ]; then '
                    f'{DEPLOYED_VERSION}="$(aws s3api copy-object {target} '
                    f'--key "${DEPLOYED_KEY}" --copy-source "$SOURCE" '
                    f'--metadata-directive REPLACE --metadata "{meta}=${PACKAGE_VERSION}" '
                    '--query VersionId --output text)"; '
                    f'echo "conveyor: package version ${PACKAGE_VERSION} copied to '
                    f'${DEPLOYED_BUCKET}/${DEPLOYED_KEY} (version ${DEPLOYED_VERSION})"; fi',
                ]
            }
        },
    }
