"""Secret-like parameter that echoes, or that has a default.

A parameter named like a secret (password, token, secret, api key) must have ``NoEcho: true``
(or it shows in the console and in ``describe-stacks``), and must not have a ``Default``: with
one, a deploy that forgot to pass the secret silently uses the default and fails much later with
an unrelated error.

Heuristic, tuned on the public corpus (43 of 59 findings were false): a name is not enough. A
parameter that is a switch (a ``Number``, a boolean default, ``AllowedValues`` of true/false or
Enabled/Disabled), a setting about secrets (``IamPasswordPolicyParamMinimumPasswordLength``,
``MaxCredentialUsageAge``), a pointer to one (``...S3Arn``, ``...KMSKey``, ``ParentSecretStack``,
``SecretNameforAurora``) or an action on one (``EnableSecretsPlugin``, ``createSecret``) is not
a secret. Nor is a name whose secret word only qualifies another noun: the last word names what
the value is (``secret-manager-enabled`` is a switch, ``tokenizer-model`` a model,
``oauth/token-endpoint`` an address, ``credentials-provider`` a provider's name), so the last
word (after ``Value``/``String`` and digits) must be the secret word itself: ``DbPassword``,
``GitHubToken``, ``githubtoken``, ``ApiKey``, ``SecretAccessKey``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import truthy
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.secrets import secret_like

# camelCase, PascalCase, ACRONYMS, snake_case and kebab-case words of a parameter name.
WORDS = lazy(r"[A-Z]+(?=[A-Z][a-z]|[^A-Za-z]|$)|[A-Z]?[a-z]+|\d+")
# Words that make the parameter about a secret rather than the secret itself.
SETTING_WORDS = frozenset(
    {"policy", "length", "age", "reuse", "prevention", "usage", "rotation", "expiry"}
    | {"uppercase", "lowercase", "symbols", "numbers", "characters", "count", "days"}
)
POINTER_WORDS = frozenset(
    {"arn", "arns", "name", "names", "id", "ids", "stack", "kms", "path", "url", "uri", "bucket"}
)
# "SecretsManagerSecretARNforMySql", "SecretNameforAurora": a pointer word run into "for".
POINTER_PHRASE = lazy(r"(Arn|ARN|Name|Id|ID)(for|of|For|Of)[A-Z]")
# A word that makes the name a switch or an action: EnableSecretsPlugin, createSecret,
# EKSEncryptSecrets.
VERB_WORDS = frozenset(
    {"enable", "disable", "create", "provision", "generate", "rotate", "allow", "require"}
    | {"use", "is", "has", "should", "encrypt", "store", "restore"}
)
BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "enabled", "disabled", "on", "off"})
# The last word of a secret's name ends with one of these (githubtoken, DbPassword)...
SECRET_HEADS = (
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "credential",
    "credentials",
    "apikey",
    "privatekey",
    "secretkey",
)
# ... or is "pass" (db_pass: as a suffix it would be bypass, compass), or "key" after one of
# these (ApiKey, PrivateKey, SecretAccessKey, an APNs TokenKey).
KEY_QUALIFIERS = frozenset({"api", "private", "secret", "access", "signing", "client", "token"})
# Words after the secret word that still name the secret itself (DbPasswordValue, Token2).
VALUE_WORDS = frozenset({"value", "string", "text", "plain", "plaintext", "raw"})


def _words(name: str) -> list[str]:
    return [w.lower() for w in WORDS.findall(name)]


def _names_the_secret(words: list[str]) -> bool:
    """The last word (values and digits aside) is the secret word, not a noun it qualifies."""
    head = [w for w in words if w not in VALUE_WORDS and not w.isdigit()]
    if not head:
        return False
    last = head[-1]
    if last.endswith(SECRET_HEADS) or last == "pass":
        return True
    return last == "key" and len(head) > 1 and head[-2] in KEY_QUALIFIERS


def secret_name(name: str) -> bool:
    """Named like a secret, and not like a switch, a setting or a pointer to one."""
    if not secret_like(name):
        return False
    words = _words(name)
    if not words or VERB_WORDS.intersection(words) or SETTING_WORDS.intersection(words):
        return False
    if POINTER_WORDS.intersection(words) or POINTER_PHRASE.search(name):
        return False
    return _names_the_secret(words)


def _holds_a_secret(name: str, param: dict[str, Any]) -> bool:
    if not secret_name(name):
        return False
    if param.get("Type", "String") != "String":  # Number, lists, AWS-specific types
        return False
    allowed = param.get("AllowedValues")
    if (
        isinstance(allowed, list)
        and allowed
        and all(str(v).lower() in BOOLEAN_WORDS for v in allowed)
    ):
        return False
    default = param.get("Default")
    return not (isinstance(default, bool) or str(default).lower() in BOOLEAN_WORDS - {"no"})


def check_template(ctx: Context) -> Iterator[Hit]:
    for name, param in ctx.params.items():
        if not _holds_a_secret(name, param):
            continue
        problems = []
        if truthy(param.get("NoEcho")) is not True:
            problems.append("is not NoEcho")
        if param.get("Default") not in (None,):
            problems.append("has a default, so a missing secret goes unnoticed")
        if problems:
            yield Hit(
                name,
                f"Parameters.{name}",
                f"secret parameter {name} {' and '.join(problems)}",
            )


RULE = Rule(
    id="CV045",
    title="Secret parameter echoes or has a default",
    severity=Severity.MEDIUM,
    resource_types=(),
    failure_modes=("FM30", "FM53"),
    why="S4: the GitHub token was made optional with a dummy default; the deployment then "
    "failed far from the cause. S2: tokens ended up readable in configuration.",
    fix_cloudformation="Set NoEcho: true and remove Default; better, read the secret with a "
    "'{{resolve:secretsmanager:...}}' dynamic reference where it is used.",
    fix_cdk="SecretValue.secrets_manager('name') instead of CfnParameter for secrets.",
    fix_conveyor="Nothing to write: conveyor takes no secrets as parameters.",
    check_template=check_template,
)
