"""Inference server: predictions and zero-downtime model hot-swap."""
