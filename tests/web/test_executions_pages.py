"""Executions as ops read them, on the manager pages and the JSON API: outcome per
execution, a day of schedule ticks as a handful of rows, filters, paging, console links."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from catdog.settings import AwsResources, Settings
from catdog.storage.ports import Storage
from tests.pipeline.execution_fixtures import DAY, ticks
from tests.web.fakes import FakeInference, FakeOrchestrator
from web.app import create_app


def simulate_day(orchestrator: FakeOrchestrator) -> None:
    for detail in ticks():
        orchestrator.add(detail)


def test_a_day_of_ticks_is_a_handful_of_rows_and_pages_to_the_oldest(
    manager_client: FlaskClient, orchestrator: FakeOrchestrator
) -> None:
    simulate_day(orchestrator)
    html = manager_client.get("/manager/executions").get_data(as_text=True)
    table = html.split('id="executions"')[1].split("</table>")[0]
    assert table.count("<tr") == 1 + 5  # header, 3 groups of skipped checks, 2 executions
    assert "179 skipped checks</strong>, 2026-11-20 15:03\u201323:57 UTC" in table
    assert "200 skipped checks</strong>, 2026-11-20 00:00\u201309:57 UTC" in table
    assert "rejected" in table and "promoted" in table
    assert 'id="older"' not in html

    # One row per skipped check: pages of 25 down to the oldest execution.
    seen, url = [], "/manager/executions?expand=1"
    while url:
        page = manager_client.get(url).get_data(as_text=True)
        seen += re.findall(r"<code>([^<]+)</code></a>", page)
        older = re.search(r'id="older" href="([^"]+)"', page)
        url = older.group(1).replace("&amp;", "&") if older else ""
    assert len(seen) == 480 and len(set(seen)) == 480
    assert seen[-1] == f"skipped_mode-{DAY:%Y%m%dT%H%M%S}"


def test_filter_by_outcome_and_date(
    manager_client: FlaskClient, orchestrator: FakeOrchestrator
) -> None:
    simulate_day(orchestrator)
    html = manager_client.get("/manager/executions?outcome=promoted").get_data(as_text=True)
    table = html.split('id="executions"')[1].split("</table>")[0]
    assert table.count("<tr") == 2 and "promoted-20261120T100000" in table
    empty = manager_client.get("/manager/executions?outcome=failed&since=2026-11-20")
    assert "No executions match these filters" in empty.get_data(as_text=True)
    assert manager_client.get("/manager/executions?outcome=maybe").status_code == 400


def test_api_lists_rows_with_outcome_and_a_cursor(
    client: FlaskClient, auth_header: dict[str, str], orchestrator: FakeOrchestrator
) -> None:
    simulate_day(orchestrator)
    body = client.get("/api/v1/executions?limit=2", headers=auth_header).get_json()
    first, second = body["items"]
    assert (first["kind"], first["count"]) == ("skipped", 179)
    assert first["by_outcome"] == {"skipped_threshold": 179}
    assert (second["kind"], second["outcome"], second["status"]) == (
        "execution",
        "rejected",
        "SUCCEEDED",
    )
    assert "console_url" not in second  # only on AWS
    rest = client.get(
        f"/api/v1/executions?limit=20&cursor={body['next_cursor']}", headers=auth_header
    ).get_json()
    assert [row["count"] for row in rest["items"]] == [99, 1, 200]
    assert rest["next_cursor"] is None
    skipped = client.get(
        "/api/v1/executions?outcome=skipped&expand=1&limit=5&since=2026-11-20&until=2026-11-20",
        headers=auth_header,
    ).get_json()
    assert [row["outcome"] for row in skipped["items"]] == ["skipped_threshold"] * 5
    detail = client.get(
        f"/api/v1/executions/{second['execution_arn']}", headers=auth_header
    ).get_json()
    assert detail["outcome"] == "rejected"
    bad = client.get("/api/v1/executions?cursor=zzz", headers=auth_header)
    assert bad.status_code == 400


def test_on_aws_every_execution_links_to_the_console(tmp_path: Path, storage: Storage) -> None:
    from tests.web.test_cognito import CLIENT, POOL, Keys, token

    aws = Settings(
        backend="aws",
        data_dir=tmp_path,
        secret_key="aws-secret",
        aws=AwsResources(
            cognito_user_pool_id=POOL, cognito_client_id=CLIENT, cognito_domain="catdog-test"
        ),
    )
    orchestrator = FakeOrchestrator(storage)
    simulate_day(orchestrator)
    app = create_app(
        aws,
        storage=storage,
        inference=FakeInference(),
        orchestrator=orchestrator,
        cognito_keys=Keys(),
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token()}"}
    body = client.get("/api/v1/executions?outcome=promoted", headers=headers).get_json()
    item = body["items"][0]
    assert item["console_url"].startswith("https://us-east-1.console.aws.amazon.com/states/home")
    assert item["console_url"].endswith(item["execution_arn"])
    detail = client.get(f"/api/v1/executions/{item['execution_arn']}", headers=headers)
    assert detail.get_json()["console_url"] == item["console_url"]
