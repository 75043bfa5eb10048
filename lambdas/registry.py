"""Which handler serves which Lambda function of the state machine."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from catdog.pipeline.names import LambdaFunction

Handler = Callable[..., dict[str, Any]]


def handler_for(function: LambdaFunction) -> Handler:
    """``lambdas.<function>.handler``; deployed as ``lambdas.<function>.handler`` too."""
    module = importlib.import_module(f"lambdas.{function.value}")
    handler: Handler = module.handler
    return handler
