"""A stand-in for the CLIs a buildspec calls (aws, docker, pip, curl, scanners, ...).

Installed on PATH under each tool's name (a wrapper calling main(tool)), it records its argv as
one JSON line in $STUB_CALLS and answers with output shaped like the real tool's, so the
buildspec's next command has what it reads (a digest, a version, a deployment id).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

DIGEST = "sha256:" + "ab" * 32


def flag(args: list[str], name: str) -> str | None:
    """The value of `--name value` or `--name=value` (buildspecs.py reads calls with it too)."""
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _text(value: object) -> str:
    """The CLI's `--output text` of a queried value: a list's items tab-separated, null None."""
    if isinstance(value, list):
        return "\t".join(_text(item) for item in value)
    return "None" if value is None else str(value)


def _s3(operation: str, args: list[str], state_path: Path) -> int | None:
    """A versioned bucket's objects, kept in $STUB_S3 as {"bucket/key": [versions, oldest
    first]}: enough of PutObject, HeadObject, ListObjectVersions and CopyObject for a buildspec
    to find, copy and version packages as S3 would. None: an operation this does not model."""
    import jmespath  # type: ignore[import-untyped]  # botocore's query language, as --query's

    state: dict[str, list[dict[str, object]]] = (
        json.loads(state_path.read_text()) if state_path.exists() else {}
    )
    bucket, key = flag(args, "--bucket") or "", flag(args, "--key") or ""

    def find(path: str, version: str | None) -> dict[str, object] | None:
        versions = state.get(path, [])
        if version is None:
            return versions[-1] if versions else None
        return next((v for v in versions if v["VersionId"] == version), None)

    def answer(response: object) -> int:
        query = flag(args, "--query")
        print(_text(jmespath.search(query, response)) if query else json.dumps(response))
        return 0

    def put(path: str, metadata: dict[str, str]) -> dict[str, object]:
        version: dict[str, object] = {
            "VersionId": f"v{sum(len(v) for v in state.values()) + 1}-{path.count('/')}",
            "Metadata": metadata,
        }
        state.setdefault(path, []).append(version)
        state_path.write_text(json.dumps(state))
        return version

    if operation == "put-object":
        return answer({"VersionId": put(f"{bucket}/{key}", {})["VersionId"]})
    if operation == "head-object":
        found = find(f"{bucket}/{key}", flag(args, "--version-id"))
        if found is None:
            print(
                "An error occurred (404) when calling the HeadObject operation: Not Found",
                file=sys.stderr,
            )
            return 254
        return answer(found)
    if operation == "list-object-versions":
        prefix = f"{bucket}/{flag(args, '--prefix') or ''}"
        listed = [
            {"Key": path.split("/", 1)[1], **version}
            for path, versions in sorted(state.items())
            if path.startswith(prefix)
            for version in reversed(versions)  # newest first, as S3 lists them
        ]
        return answer({"Versions": listed} if listed else {})
    if operation == "copy-object":
        source, _, version = (flag(args, "--copy-source") or "").partition("?versionId=")
        found = find(source, version or None)
        if found is None:
            print(
                "An error occurred (NoSuchVersion) when calling the CopyObject operation: "
                "The specified version does not exist.",
                file=sys.stderr,
            )
            return 254
        metadata = dict(found["Metadata"])  # type: ignore[call-overload]
        if flag(args, "--metadata-directive") == "REPLACE":
            name, _, value = (flag(args, "--metadata") or "=").partition("=")
            metadata = {name: value} if name else {}
        return answer({"VersionId": put(f"{bucket}/{key}", metadata)["VersionId"]})
    return None


def _aws(args: list[str]) -> int:
    service, operation = [*args, "", ""][:2]
    query = flag(args, "--query")
    if service == "s3api" and os.environ.get("STUB_S3"):
        modelled = _s3(operation, args, Path(os.environ["STUB_S3"]))
        if modelled is not None:
            return modelled
    answers = {
        ("ecr", "get-login-password"): "stub-password",
        ("lambda", "get-alias"): "1",
        ("lambda", "update-function-code"): "2",
        ("lambda", "publish-version"): "2",
        ("deploy", "create-deployment"): "d-STUB12345",
        ("deploy", "get-deployment"): "Succeeded",
        ("sts", "get-caller-identity"): "123456789012",
        ("ssm", "get-parameter"): "stub-value",
        ("ssm", "get-parameters"): "stub-value",
    }
    if (service, operation) == ("cloudwatch", "describe-alarms"):
        # STUB_ALARMS_IN_ALARM: the alarms CloudWatch answers are in ALARM (none unless set),
        # of those asked for when the call filters on that state.
        firing = os.environ.get("STUB_ALARMS_IN_ALARM", "").split()
        # STUB_DESCRIBE_ALARMS_ERROR: the call fails as a denied or throttled one does (the
        # CLI prints the error and exits 254).
        if os.environ.get("STUB_DESCRIBE_ALARMS_ERROR"):
            print(os.environ["STUB_DESCRIBE_ALARMS_ERROR"], file=sys.stderr)
            return 254
        asked = args[args.index("--alarm-names") + 1 :] if "--alarm-names" in args else []
        asked = asked[: next((i for i, a in enumerate(asked) if a.startswith("--")), len(asked))]
        if flag(args, "--state-value") == "ALARM":
            print(_text([name for name in asked if name in firing]))
            return 0
        if query is not None and "StateValue" in query:
            # [AlarmName,StateValue] rows, one alarm a line; STUB_ALARMS_MISSING: alarms
            # CloudWatch no longer has (DescribeAlarms leaves them out of its answer).
            missing = os.environ.get("STUB_ALARMS_MISSING", "").split()
            rows = [
                _text([name, "ALARM" if name in firing else "OK"])
                for name in asked
                if name not in missing
            ]
            print("\n".join(rows))
            return 0
        print(_text(asked))
        return 0
    if (service, operation) == ("ecr", "describe-images"):
        # Without --query the build asks "is this tag already pushed?": not yet.
        if query is None:
            return 1
        print(DIGEST)
        return 0
    print(answers.get((service, operation), "{}" if query is None else "stub"))
    return 0


def _python(args: list[str]) -> int:
    if args[:2] == ["-m", "pip"]:
        return _pip(args[2:])
    if args[:1] == ["-m"] and args[1].split(".")[0] not in sys.stdlib_module_names:
        # A module of the user's repository or its tools (`python -m pytest`, `python -m
        # reports.nightly`): not in the fake checkout, so answered as a clean run the way the
        # stubbed `pytest` is. Generated buildspecs run only the standard library's modules.
        return _report(args[1], args[2:])
    real = os.environ["STUB_REAL_PYTHON"]
    return subprocess.call([real, *args])


def _pip(args: list[str]) -> int:
    target = flag(args, "--target") or flag(args, "-t")
    if target:
        # What a wheel install leaves behind, tagged with the platform it was asked for.
        Path(target, "stub_dependency").mkdir(parents=True, exist_ok=True)
        platform = flag(args, "--platform") or "host"
        Path(target, "stub_dependency", "PLATFORM").write_text(platform)
    return 0


def _curl(args: list[str]) -> int:
    output = flag(args, "-o") or flag(args, "--output")
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_bytes(b"stub download\n")
    else:
        # Piped into `sh`: an installer script that installs nothing.
        print("#!/bin/sh\nexit 0")
    return 0


def _clean_report(tool: str, path: str) -> str:
    """What a scanner writes when it finds nothing, in the format the path asks for."""
    if path.endswith(".sarif"):
        # https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
        run = {"tool": {"driver": {"name": tool, "rules": []}}, "results": []}
        return json.dumps({"version": "2.1.0", "runs": [run]})
    if tool == "pip-audit":
        # pip-audit --format json: https://github.com/pypa/pip-audit#output-formats
        return json.dumps({"dependencies": [], "fixes": []})
    return "{}"


def _report(tool: str, args: list[str]) -> int:
    """A clean report; or, for the tool named in $STUB_FAILING_TOOL, the first half of one
    and exit status 2: a scanner that crashed mid-report (issue 17/1)."""
    failing = os.environ.get("STUB_FAILING_TOOL") == tool
    written = False
    for name in ("--output", "--report-path", "--output-file", "-o"):
        path = flag(args, name)
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            report = _clean_report(tool, path)
            Path(path).write_text(report[: len(report) // 2] if failing else report)
            written = True
    if tool == "npm" and args[:1] == ["audit"] and not written:
        # npm audit --json writes to stdout: https://docs.npmjs.com/cli/commands/npm-audit
        report = json.dumps({"auditReportVersion": 2, "vulnerabilities": {}})
        print(report[: len(report) // 2] if failing else report)
    return 2 if failing else 0


def _conveyor(args: list[str]) -> int:
    """`conveyor synth SPEC -o DIR` leaves what the real synth of this example wrote
    ($STUB_SYNTH_FROM); like the real one, it exits 2 when SPEC is not there."""
    if args[:1] != ["synth"] or len(args) < 2:
        return 0
    if not Path(args[1]).is_file():
        print(f"error: cannot read {args[1]}: No such file or directory", file=sys.stderr)
        return 2
    output = flag(args, "-o") or flag(args, "--output") or "cdk.out"
    shutil.copytree(os.environ["STUB_SYNTH_FROM"], output, dirs_exist_ok=True)
    return 0


def _docker(args: list[str]) -> int | None:
    """`docker buildx build --output type=docker,dest=FILE`: an image archive at FILE (a
    pull request's build, which pushes nothing), as buildx's docker exporter writes one.
    https://docs.docker.com/build/exporters/oci-docker/"""
    output = flag(args, "--output") or ""
    dest = re.search(r"(?:^|,)dest=([^,]+)", output)
    if args[:2] == ["buildx", "build"] and "type=docker" in output and dest:
        Path(dest.group(1)).write_bytes(b"stub image archive\n")
        return 0
    return None


def main(tool: str) -> int:
    args = sys.argv[1:]
    with Path(os.environ["STUB_CALLS"]).open("a") as log:
        log.write(json.dumps([tool, *args]) + "\n")
    if tool == "docker" and args[:1] == ["login"] and "--password-stdin" in args:
        sys.stdin.read()
    if tool == "sha256sum" and "-" in args:
        # Read what `echo "$SHA256  FILE" | sha256sum -c -` pipes in, as the real one does:
        # exiting first would kill echo with SIGPIPE whenever it writes late (a loaded machine),
        # and the buildspecs' `set -o pipefail` would fail the check on it.
        sys.stdin.read()
    if tool == "docker" and (answered := _docker(args)) is not None:
        return answered
    if tool == "aws":
        return _aws(args)
    if tool in ("python", "python3"):
        return _python(args)
    if tool in ("pip", "pip3"):
        return _pip(args[1:] if args[:1] == ["install"] else args)
    if tool in ("curl", "wget"):
        return _curl(args)
    if tool == "conveyor":
        return _conveyor(args)
    return _report(tool, args)
