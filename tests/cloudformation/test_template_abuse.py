"""Abuse controls in the template: per-address WAF rate rules, the orphan lifecycle rule."""

from __future__ import annotations

from typing import Any

from catdog.storage.aws.blobs import PENDING_TAG
from tests.cloudformation.support import of_type


def test_waf_rate_rules_per_address_guard_the_api_stage(resources: dict[str, Any]) -> None:
    acls = of_type(resources, "AWS::WAFv2::WebACL")
    assert len(acls) == 1
    ((name, acl),) = acls.items()
    statements = [rule["Statement"]["RateBasedStatement"] for rule in acl["Properties"]["Rules"]]
    assert all(s["AggregateKeyType"] == "IP" for s in statements)
    actions = [rule["Action"]["Block"]["CustomResponse"] for rule in acl["Properties"]["Rules"]]
    assert all(a["ResponseCode"] == 429 for a in actions)
    writes = next(s for s in statements if "ScopeDownStatement" in s)
    assert writes["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == "POST"
    (association,) = of_type(resources, "AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [name, "Arn"]}
    assert "/restapis/${WebApi}/stages/app" in association["Properties"]["ResourceArn"]["Fn::Sub"]


def test_pending_image_blobs_expire_by_tag(resources: dict[str, Any]) -> None:
    rules = resources["ImagesBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    orphan_rule = next(rule for rule in rules if rule["Id"] == "expire-orphaned-blobs")
    assert orphan_rule["Status"] == "Enabled"
    assert orphan_rule["TagFilters"] == [{"Key": PENDING_TAG, "Value": "true"}]
    assert orphan_rule["ExpirationInDays"] >= 1
