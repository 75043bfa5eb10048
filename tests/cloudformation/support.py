"""Reading the committed template in tests: parsed with cfn-lint's YAML loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfnlint.decode.cfn_yaml import loads

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "cloudformation" / "catdog.yaml"


def load_template() -> dict[str, Any]:
    return dict(loads(TEMPLATE_PATH.read_text()))


def of_type(resources: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == resource_type}


def render_name(value: Any, prefix: str = "catdog") -> str:
    """A ``!Sub ${NamePrefix}-...`` name with the default prefix (no other variables)."""
    assert isinstance(value, dict) and set(value) == {"Fn::Sub"}, value
    text = value["Fn::Sub"]
    assert isinstance(text, str)
    return text.replace("${NamePrefix}", prefix)


def boot_script(resources: dict[str, Any], name: str) -> str:
    """The user-data script of an instance, or of the launch template of a group's instances."""
    properties = resources[name]["Properties"]
    user_data = properties.get("LaunchTemplateData", properties)["UserData"]
    script = user_data["Fn::Base64"]["Fn::Sub"]
    assert isinstance(script, str)
    return script
