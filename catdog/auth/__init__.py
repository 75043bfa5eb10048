"""Manager authentication: local accounts, login throttling, API tokens, Cognito JWTs."""
