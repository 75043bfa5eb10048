"""The attacker's findings, replayed against a real ``catdog up`` with the default burst:
memory amplification, 500s on client input, the open redirect, the unthrottled flood.

Runs in file order: the flood comes last, since it uses up 127.0.0.1's bucket.
"""

from __future__ import annotations

import io
import re
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image

from catdog.process_tree import PeakSampler, tree_bytes
from tests.e2e.api import error_of, photo
from tests.e2e.conftest import StartSystem
from tests.e2e.system import MANAGER, PASSWORD, CatdogSystem
from tests.hostile_corpus import corpus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
GB = 1024**3
DEFAULT_BURST = 30


@pytest.fixture(scope="module")
def system(start_system: StartSystem) -> CatdogSystem:
    # The default burst; a slow refill (1 a minute, not 60) keeps the flood test
    # independent of how fast this machine serves the uploads.
    system = start_system(
        CATDOG_RATE_LIMIT_BURST=str(DEFAULT_BURST), CATDOG_RATE_LIMIT_PER_MINUTE="1"
    )
    system.add_manager()
    return system


@pytest.fixture(scope="module")
def manager(system: CatdogSystem) -> requests.Session:
    session = requests.Session()
    response = session.post(
        f"{system.web}/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD}, timeout=60
    )
    assert response.status_code == 201
    session.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return session


def sixteen_bit_png(side: int = 6300) -> bytes:
    """The finding's file: a 77 KB 16-bit grayscale PNG of 6300 x 6300 pixels."""
    out = io.BytesIO()
    Image.new("I;16", (side, side), 30_000).save(out, format="PNG", optimize=True)
    return out.getvalue()


def test_eight_16_bit_pngs_at_once_stay_within_a_gigabyte(
    system: CatdogSystem, manager: requests.Session
) -> None:
    """The finding: 8 such uploads at once grew the process tree by about 8 GB."""
    data = sixteen_bit_png()
    assert len(data) < 200_000
    assert system.process is not None
    baseline = tree_bytes(system.process.pid)

    def send(number: int) -> requests.Response:
        files = {"file": (f"deep-{number}.png", data, "image/png")}
        return manager.post(
            f"{system.web}/api/v1/images", data={"key": f"deep-{number}"}, files=files, timeout=120
        )

    with PeakSampler(system.process.pid) as memory, ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(8)))
    assert [r.status_code for r in responses] == [201] * 8
    assert {(r.json()["width"], r.json()["height"]) for r in responses} == {(6300, 6300)}
    assert memory.peak - baseline < GB


def test_the_generated_corpus_gets_no_5xx(system: CatdogSystem, manager: requests.Session) -> None:
    """Every generated file against the real web app (as a manager: the anonymous
    bucket is for the flood test); a 4xx JSON error or the displayed size."""

    def send(case_index: int) -> tuple[str, int, object]:
        case = CASES[case_index]
        key = re.sub(r"[^A-Za-z0-9_-]", "-", case.name)
        files = {"file": ("upload.bin", case.data, "application/octet-stream")}
        response = manager.post(
            f"{system.web}/api/v1/images", data={"key": key}, files=files, timeout=120
        )
        body = response.json()
        shown = (body["width"], body["height"]) if response.status_code == 201 else None
        return case.name, response.status_code, shown or error_of(response)[0]

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(send, range(len(CASES))))
    expected = [(c.name, c.expected_status, c.shown_size or c.expected_code) for c in CASES]
    assert outcomes == expected


CASES = corpus()


def test_an_mpo_from_a_phone_is_stored(system: CatdogSystem) -> None:
    mpo = next(case for case in CASES if case.name == "MPO-three-frames")
    response = requests.post(
        f"{system.web}/api/v1/images",
        data={"key": "phone-mpo"},
        files={"file": ("IMG_0001.JPG", mpo.data)},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "image/jpeg"


def test_a_non_ascii_limit_is_a_400(system: CatdogSystem) -> None:
    response = requests.get(f"{system.web}/api/v1/images?limit=%C2%B2", timeout=30)
    assert response.status_code == 400
    assert error_of(response)[0] == "invalid_input"


def test_a_non_ascii_csrf_token_is_a_403(system: CatdogSystem) -> None:
    session = requests.Session()
    session.get(f"{system.web}/", timeout=30)
    response = session.post(
        f"{system.web}/images", data={"key": "k", "csrf_token": "ünïcödé"}, timeout=30
    )
    assert response.status_code == 403


def test_login_never_redirects_off_site(system: CatdogSystem) -> None:
    session = requests.Session()
    page = session.get(f"{system.web}/manager/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = session.post(
        f"{system.web}/manager/login?next=/%09/evil.example/x",
        data={
            "username": MANAGER,
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": "/\t/evil.example/x",
        },
        allow_redirects=False,
        timeout=60,
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/manager/"


@pytest.mark.parametrize("server", ["web", "inference"])
def test_a_malformed_chunked_body_is_a_400(system: CatdogSystem, server: str) -> None:
    """Found by probing: gunicorn's InvalidChunkSize reached the app and became a 500."""
    port = system.web_port if server == "web" else system.inference_port
    path = "/api/v1/images" if server == "web" else "/v1/predict"
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: image/png\r\nConnection: close\r\n\r\nzz\r\n"
    )
    if server == "web":
        request = request.replace("image/png", "application/json")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request.encode())
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"400", status_line


def test_a_flood_of_anonymous_uploads_is_throttled(system: CatdogSystem) -> None:
    """The finding: 300 anonymous uploads from one address were all accepted."""
    flood = 2 * DEFAULT_BURST

    def send(number: int) -> requests.Response:
        return requests.post(
            f"{system.web}/api/v1/images",
            data={"key": f"flood-{number}"},
            files={"file": ("f.jpg", photo(7000 + number))},
            timeout=60,
        )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(flood)))
    statuses = [response.status_code for response in responses]
    assert set(statuses) == {201, 429}
    # At most the burst, plus a token or two refilled while the module ran.
    assert statuses.count(201) <= DEFAULT_BURST + 2
    refused = [response for response in responses if response.status_code == 429]
    assert all(error_of(response)[0] == "rate_limited" for response in refused)
    assert all(1 <= int(response.headers["Retry-After"]) <= 60 for response in refused)
    manager_still_served = requests.get(f"{system.web}/api/v1/images", timeout=30)
    assert manager_still_served.status_code == 200  # reads are not limited
