"""Hosts: the programs that run catdog's units.

- ``hosts.cli``: the ``catdog`` command (``catdog up``, ``deploy``, ``pipeline``, ...).
- ``hosts.deploy``: packaging and CloudFormation deployment, used by ``catdog deploy``.
- ``hosts.embedded``: the embedded default on one machine: the process supervisor
  of ``catdog up`` and the Step Functions runtime that executes the committed
  state machine with the Lambda handlers in-process.

Dependencies point one way: hosts → units (``web``, ``inference_server``,
``training_job``, ``lambdas``, ``workflows``) → core (``catdog``).
"""
