"""CV110 on variations of its good fixture: each way a code bucket's lifecycle can expire the
package version an environment runs is reported, and what it does not judge is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.rules import check_paths

GOOD = (Path(__file__).parent / "fixtures" / "CV110" / "good.yaml").read_text()
DEPLOYED_RULE = (
    "            Prefix: deployed/\n"
    "            Status: Enabled\n"
    "            NoncurrentVersionExpiration: {NoncurrentDays: 30, NewerNoncurrentVersions: 100}\n"
)
STAGING = """        - Name: Deploy-staging
          Actions:
            - Name: Deploy
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: "1"}
              Configuration:
                ActionMode: CREATE_UPDATE
                StackName: quotes-staging
                TemplatePath: Built::quotes-staging.template.json
                ParameterOverrides: !Sub '{"CodeBucket":"${Packages}","CodeKey":"KEY",\
                  "CodeVersion":"#{PackageProd.DEPLOYED_VERSION}"}'
              InputArtifacts: [{Name: Built}]
""".replace("KEY", "deployed/prod/quotes-package.zip")


def _cv110(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    result = check_paths([path])
    assert result.errors == []
    return [f.message for f in result.findings if f.rule == "CV110"]


def _variant(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        (
            _variant(DEPLOYED_RULE, DEPLOYED_RULE + "            ExpirationInDays: 90\n"),
            "expires the current version of deployed/prod/quotes-package.zip (90)",
        ),
        (
            _variant(
                DEPLOYED_RULE,
                DEPLOYED_RULE.replace(", NewerNoncurrentVersions: 100", ""),
            ),
            "after 30 days keeping none by count",
        ),
        (
            _variant("      Stages:\n", "      Stages:\n" + STAGING),
            "deployed/prod/quotes-package.zip, which stage Deploy-staging deploys too",
        ),
        (
            # A catch-all rule overlapping deployed/ (S3 lets the shorter expiry win).
            _variant(
                "          - Id: expire-replaced-builds\n"
                "            Prefix: quotes-package.zip\n"
                "            Status: Enabled\n"
                "            NoncurrentVersionExpiration: {NoncurrentDays: 30, "
                "NewerNoncurrentVersions: 50}\n",
                "          - Id: expire-everything\n"
                "            Status: Enabled\n"
                "            NoncurrentVersionExpiration: {NoncurrentDays: 7}\n",
            ),
            "expire-everything expires replaced versions of deployed/prod/quotes-package.zip "
            "after 7 days keeping none by count",
        ),
    ],
    ids=["current-expires", "none-kept-by-count", "key-shared-by-stages", "catch-all-rule"],
)
def test_each_way_to_lose_the_running_version_is_reported(
    tmp_path: Path, variant: str, expected: str
) -> None:
    messages = _cv110(tmp_path, variant)
    assert [m for m in messages if expected in m], messages


@pytest.mark.parametrize(
    "variant",
    [
        GOOD,
        # Disabled rules and tag-filtered ones (object tags are not in the template) are not
        # judged.
        _variant(
            DEPLOYED_RULE,
            DEPLOYED_RULE.replace("100}", "100}\n            ExpirationInDays: 9").replace(
                "Status: Enabled", "Status: Disabled"
            ),
        ),
        _variant(
            DEPLOYED_RULE,
            DEPLOYED_RULE
            + "            ExpirationInDays: 9\n"
            + "            TagFilters: [{Key: tmp, Value: 'yes'}]\n",
        ),
        # A version no action of this template exports (another stack's variable).
        GOOD.replace("#{PackageProd.DEPLOYED_VERSION}", "#{Elsewhere.VERSION}"),
    ],
    ids=["good", "disabled-rule", "tag-filtered-rule", "unknown-namespace"],
)
def test_what_cannot_expire_the_running_version_is_not_reported(
    tmp_path: Path, variant: str
) -> None:
    assert _cv110(tmp_path, variant) == []


def test_an_action_mode_chosen_by_an_intrinsic_is_not_judged_and_crashes_nothing(
    tmp_path: Path,
) -> None:
    # A mode given as !Ref (a dict once parsed) raised "unhashable type: 'dict'" from the
    # frozenset lookup: an internal error for the whole file.
    text = GOOD.replace("ActionMode: CREATE_UPDATE", "ActionMode: !Ref Mode", 1)
    assert text != GOOD
    assert _cv110(tmp_path, text) == []
