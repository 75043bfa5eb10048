"""The Lambda functions: `handlers` names one handler per function, `adapter` builds them."""
