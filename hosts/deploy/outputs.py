"""Stack outputs → the settings the app reads (``CATDOG_*`` variables).

The template sets the same variables on the Lambda functions and instances;
this mapping lets the CLI on an operator's machine talk to a deployed stack
(``catdog deploy`` prints them, ready for an env file).
"""

from __future__ import annotations

from collections.abc import Mapping

from catdog.settings import Settings

OUTPUT_ENV: dict[str, str] = {
    "Region": "CATDOG_AWS_REGION",
    "ImagesBucket": "CATDOG_AWS_IMAGES_BUCKET",
    "ModelsBucket": "CATDOG_AWS_MODELS_BUCKET",
    "StaticBucket": "CATDOG_AWS_STATIC_BUCKET",
    "ImagesTable": "CATDOG_AWS_IMAGES_TABLE",
    "SettingsTable": "CATDOG_AWS_SETTINGS_TABLE",
    "RunsTable": "CATDOG_AWS_RUNS_TABLE",
    "ModelsTable": "CATDOG_AWS_MODELS_TABLE",
    "StateMachineArn": "CATDOG_AWS_STATE_MACHINE_ARN",
    "TrainInstanceId": "CATDOG_AWS_TRAIN_INSTANCE_ID",
    "PendingQueueUrl": "CATDOG_AWS_PENDING_QUEUE_URL",
    "CognitoUserPoolId": "CATDOG_AWS_COGNITO_USER_POOL_ID",
    "CognitoClientId": "CATDOG_AWS_COGNITO_CLIENT_ID",
    "CognitoDomain": "CATDOG_AWS_COGNITO_DOMAIN",
    "InferenceUrl": "CATDOG_INFERENCE_URL",
    "InferenceGroupName": "CATDOG_AWS_INFERENCE_GROUP_NAME",
}


def outputs_env(outputs: Mapping[str, str]) -> dict[str, str]:
    """``CATDOG_*`` variables for the outputs present, with ``CATDOG_BACKEND=aws``."""
    env = {"CATDOG_BACKEND": "aws"}
    env.update({OUTPUT_ENV[key]: value for key, value in outputs.items() if key in OUTPUT_ENV})
    return env


def settings_from_outputs(
    outputs: Mapping[str, str], base: Mapping[str, str] | None = None
) -> Settings:
    """Settings for a deployed stack: ``base`` variables overridden by the outputs."""
    return Settings.from_env({**(base or {}), **outputs_env(outputs)})
