"""`conveyor schema`: a JSON Schema that accepts every example and rejects what validate rejects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from conveyor.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans, as yaml-language-server reads them: `on:` is a key, not True."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
)


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader


def _schema() -> dict[str, Any]:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_schema_is_draft_2020_12_and_accepts_every_example() -> None:
    schema = _schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        jsonschema.validate(_load(example), schema)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(colour="blue"), "Additional properties"),
        (lambda d: d["build"].update(compute="huge"), "huge"),
        (lambda d: d.pop("owner"), "'owner' is a required property"),
        (
            lambda d: d["environments"][0]["deploy"]["ecs"]["create"]["sidecars"].extend(
                {"name": f"extra{i}", "image": "example/extra:1"} for i in range(9)
            ),
            "is too long",
        ),
    ],
)
def test_schema_rejects_unknown_keys_bad_values_and_missing_keys(
    change: Callable[[dict[str, Any]], object], message: str
) -> None:
    spec = _load(ROOT / "examples" / "web-service.yaml")
    change(spec)
    with pytest.raises(jsonschema.ValidationError, match=message):
        jsonschema.validate(spec, _schema())


def test_schema_uses_the_keys_users_write() -> None:
    deploy = _schema()["$defs"]["Deploy"]
    assert "lambda" in deploy["properties"]
    assert "lambda_" not in deploy["properties"]


def test_schema_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / ".conveyor" / "schema.json"
    result = runner.invoke(app, ["schema", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["title"] == "conveyor.yaml"


def test_schema_refuses_a_directory_as_output(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in result.output


def test_schema_never_writes_through_a_link_and_still_refreshes_its_file(tmp_path: Path) -> None:
    """init's comment tells users to run `conveyor schema -o .conveyor/schema.json`; a
    repository can commit a link there (git keeps links) pointing at a file of the user's."""
    precious = tmp_path / "precious"
    precious.write_text("keep me\n")
    target = tmp_path / ".conveyor" / "schema.json"
    target.parent.mkdir()
    target.symlink_to(precious)
    result = runner.invoke(app, ["schema", "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert "is a symbolic link; conveyor never writes through links" in result.output
    assert precious.read_text() == "keep me\n"
    target.unlink()
    target.write_text("{}\n")  # an older schema is replaced without --force, as before
    result = runner.invoke(app, ["schema", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["title"] == "conveyor.yaml"


def test_output_dash_is_standard_output_and_empty_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # '-' wrote a file named "-"; '' was reported as "." (a directory).
    monkeypatch.chdir(tmp_path)
    dash = runner.invoke(app, ["schema", "-o", "-"])
    assert dash.exit_code == 0
    assert json.loads(dash.stdout)["title"] == "conveyor.yaml"
    assert list(tmp_path.iterdir()) == []
    empty = runner.invoke(app, ["schema", "-o", ""])
    assert empty.exit_code == 2
    assert "-o '' (an empty path) names no file; name a file" in empty.stderr
