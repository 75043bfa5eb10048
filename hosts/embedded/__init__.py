"""The embedded default (``catdog up``): one machine, no AWS account."""
