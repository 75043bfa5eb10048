"""``python -m training_job --run-id ID`` (the Train instance), or SageMaker mode when
``SM_CHANNEL_TRAINING`` is set."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from catdog.errors import CatdogError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training_job", description=__doc__)
    parser.add_argument("--run-id", help="the training run to carry out")
    # SageMaker passes hyperparameters as --name value; these override SM_HPS.
    for name in ("arch", "epochs", "input-size", "batch-size", "seed", "learning-rate"):
        parser.add_argument(f"--{name}", dest=name.replace("-", "_"), default=None)
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    from catdog.settings import Settings
    from training_job.sagemaker import SageMakerEnv, run_sagemaker

    args, _unknown = build_parser().parse_known_args(argv)
    env = os.environ if env is None else env
    try:
        settings = Settings.from_env(env)
        sagemaker = SageMakerEnv.from_env(env)
        if sagemaker is not None:
            extra = {k: v for k, v in vars(args).items() if k != "run_id"}
            run_sagemaker(sagemaker, settings, extra_hyperparameters=extra, log=_stderr)
            return 0
        if not args.run_id:
            _stderr("training_job: --run-id is required (or set SM_CHANNEL_TRAINING)")
            return 2
        from catdog.storage.factory import build_storage
        from training_job.observed import run_observed_job

        return run_observed_job(args.run_id, settings, build_storage(settings))
    except CatdogError as exc:
        _stderr(f"training_job: error: {exc}")
        return exc.exit_code


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
