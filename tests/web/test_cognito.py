"""Cognito on AWS: JWT checks with a key pair made here, and the hosted-UI code flow."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from catdog.auth.cognito import CognitoConfig, CognitoVerifier, SigningKeys
from catdog.errors import InvalidToken
from catdog.settings import AwsResources, Settings
from web.app import create_app

POOL = "us-east-1_TestPool"
CLIENT = "client-123"
CONFIG = CognitoConfig("us-east-1", POOL, CLIENT, "catdog-test")
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = new_key()
OTHER_KEY = new_key()


class Keys(SigningKeys):
    """The pool's JWKS, as the verifier sees it: one known key id."""

    def key_for(self, token: str) -> Any:
        if jwt.get_unverified_header(token).get("kid") != "k1":
            raise InvalidToken("unknown kid")
        return KEY.public_key()


def token(key: rsa.RSAPrivateKey = KEY, alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "0000-1111",
        "iss": ISSUER,
        "token_use": "access",
        "client_id": CLIENT,
        "username": "carol",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": "k1"})


def id_token(**overrides: Any) -> str:
    claims = {"token_use": "id", "client_id": None, "aud": CLIENT, "cognito:username": "carol"}
    return token(**{**claims, **overrides})


VERIFIER = CognitoVerifier(CONFIG, Keys())


def test_valid_access_and_id_tokens_name_the_user():
    assert VERIFIER.verify(token()).username == "carol"
    identity = VERIFIER.verify(id_token())
    assert (identity.username, identity.token_use) == ("carol", "id")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda: token(key=OTHER_KEY), "not valid"),
        (lambda: token(iss="https://cognito-idp.us-east-1.amazonaws.com/other"), "not valid"),
        (lambda: token(exp=int(time.time()) - 10), "expired"),
        (lambda: token(client_id="someone-else"), "another app client"),
        (lambda: id_token(aud="someone-else"), "another app client"),
        (lambda: token(token_use="refresh"), "token_use"),
        (lambda: token(token_use=None), "not valid"),
        (lambda: "not-a-jwt", "not a JWT"),
    ],
    ids=["signature", "issuer", "expiry", "client-id", "audience", "token-use", "no-use", "junk"],
)
def test_tokens_failing_a_check_are_refused(bad, message):
    with pytest.raises(InvalidToken, match=message):
        VERIFIER.verify(bad())


def test_algorithm_confusion_and_unsigned_tokens_are_refused():
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"k1"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(
        f'{{"iss":"{ISSUER}","token_use":"access","client_id":"{CLIENT}",'
        f'"username":"mallory","exp":{int(time.time()) + 600}}}'.encode()
    ).rstrip(b"=")
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
    ).rstrip(b"=")
    forged = (header + b"." + body + b"." + signature).decode()
    with pytest.raises(InvalidToken, match="RS256"):
        VERIFIER.verify(forged)
    unsigned = jwt.encode({"iss": ISSUER}, key="", algorithm="none")  # "" is PyJWT's no key
    with pytest.raises(InvalidToken, match="RS256"):
        VERIFIER.verify(unsigned)


class TokenEndpoint:
    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []

    def __call__(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        assert url == "https://catdog-test.auth.us-east-1.amazoncognito.com/oauth2/token"
        self.forms.append(form)
        return {"id_token": id_token(), "access_token": token(), "token_type": "Bearer"}


@pytest.fixture
def aws_app(tmp_path, storage):
    endpoint = TokenEndpoint()
    settings = Settings(
        backend="aws",
        data_dir=tmp_path,
        secret_key="aws-secret",
        aws=AwsResources(
            cognito_user_pool_id=POOL, cognito_client_id=CLIENT, cognito_domain="catdog-test"
        ),
    )
    from tests.web.fakes import FakeInference

    app = create_app(
        settings,
        storage=storage,
        inference=FakeInference(),
        cognito_keys=Keys(),
        cognito_post=endpoint,
    )
    app.config["token_endpoint"] = endpoint
    return app


def test_api_accepts_cognito_tokens_and_refuses_bad_ones(aws_app):
    client = aws_app.test_client()
    good = client.get("/api/v1/settings", headers={"Authorization": f"Bearer {token()}"})
    assert good.status_code == 200
    expired = token(exp=int(time.time()) - 1)
    bad = client.get("/api/v1/settings", headers={"Authorization": f"Bearer {expired}"})
    assert bad.status_code == 401
    assert bad.get_json()["error"]["code"] == "invalid_token"
    # Local password tokens do not exist on AWS.
    response = client.post("/api/v1/tokens", json={"username": "carol", "password": "x" * 12})
    assert response.status_code == 401


def test_hosted_ui_authorization_code_flow_with_pkce(aws_app):
    client = aws_app.test_client()
    start = client.get("/manager/login?next=/manager/queue")
    assert start.status_code == 302
    authorize = urlsplit(start.headers["Location"])
    assert authorize.netloc == "catdog-test.auth.us-east-1.amazoncognito.com"
    assert authorize.path == "/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == "http://localhost/manager/auth/callback"

    wrong = client.get("/manager/auth/callback?code=abc&state=not-the-state")
    assert wrong.status_code == 401
    assert client.get("/manager/").status_code == 302

    client.get("/manager/login?next=/manager/queue")
    non_ascii = client.get("/manager/auth/callback?code=abc&state=%C3%BCber")
    assert non_ascii.status_code == 401  # compare_digest refuses non-ASCII str: was a 500

    client.get("/manager/login?next=/manager/queue")
    query = {
        k: v[0]
        for k, v in parse_qs(
            urlsplit(client.get("/manager/login?next=/manager/queue").headers["Location"]).query
        ).items()
    }
    done = client.get(f"/manager/auth/callback?code=the-code&state={query['state']}")
    assert done.status_code == 303
    assert done.headers["Location"] == "/manager/queue"
    form = aws_app.config["token_endpoint"].forms[-1]
    assert form["code"] == "the-code" and form["grant_type"] == "authorization_code"
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    assert challenge == query["code_challenge"]
    assert "carol" in client.get("/manager/").get_data(as_text=True)
    # Replaying the same answer does not log in again.
    assert client.get(f"/manager/auth/callback?code=x&state={query['state']}").status_code == 401
