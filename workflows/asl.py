"""The committed ASL document, read without the SDK (which the runtime does not need)."""

from __future__ import annotations

from pathlib import Path

from catdog.pipeline.names import LambdaFunction

ASL_PATH = Path(__file__).with_name("retrain.asl.json")


def committed_definition() -> str:
    return ASL_PATH.read_text()


def fill_placeholders(asl: str, function_arns: dict[LambdaFunction, str]) -> str:
    """Substitute the ``${...FunctionArn}`` placeholders, as DefinitionSubstitutions does."""
    for function, arn in function_arns.items():
        asl = asl.replace("${" + function.placeholder + "}", arn)
    if "${" in asl:
        raise ValueError("the definition still has unfilled placeholders")
    return asl
