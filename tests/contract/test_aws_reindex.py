"""``catdog images reindex``: images stored before the image browser's GSIs existed
are put into them (DynamoDB on moto); a second pass changes nothing."""

from __future__ import annotations

import pytest

from catdog.catalog_views import CatalogView, View
from catdog.storage.aws import schema as s
from catdog.storage.aws.catalog import DynamoImageCatalog
from catdog.storage.aws.dynamo import encode
from catdog.storage.aws.reindex import VIEW_ATTRIBUTES, reindex_images
from catdog.storage.ports import Storage

from .support import MakeImage


def test_reindex_puts_old_images_into_the_view_indexes(
    storage: Storage, backend: str, make_image: MakeImage
) -> None:
    if backend != "aws":
        pytest.skip("SQLite indexes are built by migrations")
    catalog = storage.catalog
    assert isinstance(catalog, DynamoImageCatalog)
    client, table = catalog._client, catalog._table
    catalog.create(make_image("a", uploaded=1, prediction=("cat", 0.6)))
    catalog.create(make_image("b", uploaded=2, prediction=("dog", 0.9), label="cat", labeled=2))
    catalog.create(make_image("c", uploaded=3))
    for key in ("a", "b", "c"):  # as an earlier version wrote them
        client.update_item(
            TableName=table,
            Key=encode(s.image_key(key)),
            UpdateExpression="REMOVE " + ", ".join(VIEW_ATTRIBUTES),
        )

    def keys(view: View) -> list[str]:
        return [r.key for r in catalog.browse(CatalogView(view), None, 10).items]

    assert keys(View.UNLABELED) == keys(View.DISAGREEMENT) == keys(View.UNSURE) == []
    assert reindex_images(client, table) == 3
    assert keys(View.UNLABELED) == ["c", "a"]
    assert keys(View.DISAGREEMENT) == ["b"]
    assert keys(View.UNSURE) == ["a"]
    assert reindex_images(client, table) == 0
