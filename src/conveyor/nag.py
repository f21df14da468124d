"""cdk-nag as a judge: the AwsSolutions pack, run as a CDK validation plugin.

The reasoned acknowledgements live next to the constructs they concern
(`constructs/acknowledgements.py`), so they are present whether or not cdk-nag runs.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks


def add_nag(app: cdk.App) -> None:
    # cdk-nag 3 is a validation plugin; the Aspects style of cdk-nag 2 crashes at synth.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
