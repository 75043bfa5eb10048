"""The inference tier as a set of instances: which ones serve now, and a client for each."""
