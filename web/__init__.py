"""Web app: user pages, manager pages and the JSON API (Flask)."""
