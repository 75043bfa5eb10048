"""Training job: trains, evaluates, and writes a model artifact with its metrics."""
