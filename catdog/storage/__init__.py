"""Storage ports (``ports``) and their adapters (``local``, ``aws``)."""
