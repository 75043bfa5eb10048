"""Lambda handlers, one per retraining-pipeline step."""
