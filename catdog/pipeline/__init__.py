"""The retraining pipeline's core: step functions, train compute, orchestrator, local runtime."""
