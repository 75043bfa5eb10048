"""The image browser's query string: which catalog view (``catdog.catalog_views``)."""

from __future__ import annotations

from collections.abc import Mapping

from catdog.catalog_views import CatalogView

ARGS = ("view", "prefix")


def browse_view(args: Mapping[str, str], unsure_below: float) -> CatalogView:
    """``?view=all|cat|dog|labeled|unlabeled|disagreement|unsure`` or ``?prefix=KEY-START``."""
    return CatalogView.parse(args.get("view"), args.get("prefix"), unsure_below)


def browse_args(args: Mapping[str, str]) -> dict[str, str]:
    """The view in force, to carry into paging links."""
    return {name: args[name] for name in ARGS if args.get(name)}
