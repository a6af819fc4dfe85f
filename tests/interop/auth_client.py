"""Bearer auth against Corral with the official Python SDK (mcp 2.3.0).

    python auth_client.py keys DIR
        Make the issuer's keys in DIR: RSA, EC P-256 and Ed25519 signing keys,
        `jwks.json` (the published set), `jwks-rotated.json` (a new RSA key in
        place of the old one) and an unpublished key to forge with.
    python auth_client.py matrix --url URL --keys DIR
        The auth matrix over Streamable HTTP in both protocol eras: no token,
        a forged signature, expired, wrong audience, wrong issuer, a missing
        scope, a token in the query string, good tokens of each key type; a
        session held by one token refused to another; DELETE of a session.
    python auth_client.py rotated --url URL --keys DIR
        Tokens with made-up key ids are refused; a token signed with the
        rotated-in key is accepted once the server has re-read the set.
    python auth_client.py sse --sse URL --keys DIR
        The legacy HTTP+SSE transport: no token refused, a good token served.
    python auth_client.py views --url URL --secret S --static-token T
        Per-token views over HS256 tokens (secret S) and a static token: an
        admin token lists and calls the admin-tagged `multiply`, a public one
        neither lists nor calls it, a `groups` claim selects a plugin set;
        a metered view's rate limit answers 429 with Retry-After, and refills.

Prints one line per check; exits 1 at the first failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import httpx2
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

ISSUER = "https://issuer.test"
AUDIENCE = "https://mcp.test/mcp"
METADATA = "https://mcp.test/.well-known/oauth-protected-resource/mcp"
PASSED = 0


class CheckFailed(Exception):
    pass


def check(ok: bool, what: str) -> None:
    global PASSED
    if not ok:
        raise CheckFailed(what)
    PASSED += 1
    print(f"ok {what}")


# ---------------------------------------------------------------- keys

def make_keys(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    keys = {
        "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa-2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec-1": ec.generate_private_key(ec.SECP256R1()),
        "ed-1": ed25519.Ed25519PrivateKey.generate(),
        "forger": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }
    for kid, key in keys.items():
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        (directory / f"{kid}.pem").write_bytes(pem)

    def jwk(kid: str) -> dict[str, Any]:
        public = keys[kid].public_key()
        if kid.startswith("rsa"):
            entry = RSAAlgorithm.to_jwk(public, as_dict=True)
            entry["alg"] = "RS256"
        elif kid.startswith("ec"):
            entry = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            entry = OKPAlgorithm.to_jwk(public, as_dict=True)
        entry["kid"] = kid
        entry["use"] = "sig"
        return entry

    (directory / "jwks.json").write_text(json.dumps({"keys": [jwk(k) for k in ("rsa-1", "ec-1", "ed-1")]}))
    (directory / "jwks-rotated.json").write_text(json.dumps({"keys": [jwk(k) for k in ("rsa-2", "ec-1", "ed-1")]}))


ALGORITHMS = {"rsa": "RS256", "ec": "ES256", "ed": "EdDSA"}


def token(keys: Path, kid: str = "rsa-1", *, sign_with: str | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 600, "scope": "mcp"}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    pem = (keys / f"{sign_with or kid}.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    return jwt.encode(claims, key, algorithm=ALGORITHMS[kid.split("-")[0]], headers={"kid": kid})


def confused(keys: Path) -> str:
    """The algorithm-confusion attack: HS256 with the issuer's public key
    (which anyone has) as the HMAC secret."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    private = serialization.load_pem_private_key((keys / "rsa-1.pem").read_bytes(), None)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    claims = b64(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "exp": now + 600,
                             "scope": "mcp"}).encode())
    signature = hmac.new(public_pem, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


# ---------------------------------------------------------------- raw HTTP

INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "auth-check", "version": "1"}},
}
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def raw(method: str, url: str, bearer: str | None = None, body: Any = None, **headers: str) -> httpx2.Response:
    all_headers = dict(ACCEPT)
    all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    if bearer is not None:
        all_headers["authorization"] = f"Bearer {bearer}"
    with httpx2.Client(timeout=30) as client:
        return client.request(method, url, headers=all_headers,
                              content=None if body is None else json.dumps(body))


def challenge(response: httpx2.Response) -> str:
    return response.headers.get("www-authenticate", "")


# ---------------------------------------------------------------- the SDK

def sdk_mode(mode: str) -> Any:
    return "legacy" if mode == "legacy" else mode


async def call_multiply(url: str, bearer: str | None, mode: str) -> float:
    headers = {} if bearer is None else {"authorization": f"Bearer {bearer}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=sdk_mode(mode), read_timeout_seconds=30) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            if "multiply" not in names:
                raise CheckFailed(f"multiply is not listed: {names}")
            result = await client.call_tool("multiply", {"a": 6, "b": 7})
            return result.structured_content["result"]


async def refused(url: str, bearer: str | None, mode: str) -> str:
    """The SDK's error when connecting with `bearer`, or '' if it connected."""
    try:
        await call_multiply(url, bearer, mode)
    except CheckFailed:
        raise
    except BaseException as e:  # noqa: BLE001 - the SDK's error type varies by era
        return repr(e)
    return ""


# ---------------------------------------------------------------- checks

async def matrix(url: str, keys: Path) -> None:
    base = url.rsplit("/", 1)[0]
    # The metadata, at the suffixed and the bare well-known path.
    for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
        meta = raw("GET", base + path)
        check(meta.status_code == 200, f"GET {path} is 200 (got {meta.status_code})")
        doc = meta.json()
        check(doc["resource"] == AUDIENCE and doc["authorization_servers"] == [ISSUER]
              and doc["scopes_supported"] == ["mcp"] and doc["bearer_methods_supported"] == ["header"],
              f"{path} names the resource, the issuer and the scope: {doc}")

    bad = {
        "a forged signature": token(keys, sign_with="forger"),
        "an expired token": token(keys, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "a token for another audience": token(keys, aud="https://other.test/mcp"),
        "a token from another issuer": token(keys, iss="https://evil.test"),
        "a token without exp": token(keys, exp=None),
        "an HS256 token keyed with the RSA public key": confused(keys),
        "garbage": "not.a.jwt",
    }
    for mode in ("legacy", "2026-07-28"):
        # No token: 401 naming the metadata.
        response = raw("POST", url, body=INITIALIZE)
        check(response.status_code == 401, f"[{mode}] no token: 401 (got {response.status_code})")
        check(f'resource_metadata="{METADATA}"' in challenge(response) and 'scope="mcp"' in challenge(response),
              f"[{mode}] no token: WWW-Authenticate names the metadata and scope: {challenge(response)!r}")
        error = await refused(url, None, mode)
        check(error != "", f"[{mode}] the SDK without a token cannot connect: {error[:120]}")
        for what, bad_token in bad.items():
            response = raw("POST", url, bad_token, INITIALIZE)
            check(response.status_code == 401 and 'error="invalid_token"' in challenge(response)
                  and f'resource_metadata="{METADATA}"' in challenge(response),
                  f"[{mode}] {what}: 401 invalid_token ({response.status_code} {challenge(response)!r})")
            error = await refused(url, bad_token, mode)
            check(error != "", f"[{mode}] {what}: the SDK cannot connect")
        # A good token without the scope: 403 insufficient_scope, naming it.
        unscoped = token(keys, scope="profile")
        response = raw("POST", url, unscoped, INITIALIZE)
        check(response.status_code == 403 and 'error="insufficient_scope"' in challenge(response)
              and 'scope="mcp"' in challenge(response),
              f"[{mode}] missing scope: 403 insufficient_scope scope=\"mcp\" ({response.status_code} {challenge(response)!r})")
        error = await refused(url, unscoped, mode)
        check(error != "", f"[{mode}] missing scope: the SDK cannot connect")
        # Good tokens of each key type, and `scp` as a list.
        for kid in ("rsa-1", "ec-1", "ed-1"):
            result = await call_multiply(url, token(keys, kid), mode)
            check(result == 42, f"[{mode}] a good {ALGORITHMS[kid.split('-')[0]]} token: multiply gives 42")
        result = await call_multiply(url, token(keys, "ec-1", scope=None, scp=["mcp", "x"]), mode)
        check(result == 42, f"[{mode}] scopes in `scp`: multiply gives 42")

    good = token(keys)
    response = raw("POST", url + "?access_token=" + good, good, INITIALIZE)
    check(response.status_code == 400 and "query string" in response.text,
          f"a token in the query string is refused with 400 ({response.status_code})")

    # A session belongs to the token that opened it.
    response = raw("POST", url, good, INITIALIZE)
    session = response.headers.get("mcp-session-id")
    check(response.status_code == 200 and bool(session), "alice opens a 2025-11-25 session")
    bob = token(keys, sub="bob")
    list_tools = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    versioned = {"mcp_session_id": session, "mcp_protocol_version": "2025-11-25"}
    response = raw("POST", url, bob, list_tools, **versioned)
    check(response.status_code == 404, f"bob's token with alice's session: 404 (got {response.status_code})")
    response = raw("DELETE", url, bob, **versioned)
    check(response.status_code == 404, f"bob cannot close alice's session: 404 (got {response.status_code})")
    response = raw("POST", url, good, list_tools, **versioned)
    check(response.status_code == 200 and "multiply" in response.text, "alice's session still serves her")
    response = raw("DELETE", url, good, **versioned)
    check(response.status_code == 200, f"DELETE of her session: 200 (got {response.status_code})")
    response = raw("POST", url, good, list_tools, **versioned)
    check(response.status_code == 404, f"the closed session is gone: 404 (got {response.status_code})")

    # The SDK closes its session without complaint.
    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    logger = logging.getLogger("mcp.client.streamable_http")
    logger.addHandler(Collect(level=logging.WARNING))
    await call_multiply(url, good, "legacy")
    check(not [w for w in warnings if "termination" in w.lower()],
          f"the SDK's session close succeeds (no 'Session termination failed'): {warnings}")


async def rotated(url: str, keys: Path) -> None:
    # Made-up key ids are refused (the server may re-read the set, but at
    # most once per JWKS_MIN_REFETCH; the caller counts the fetches).
    for _ in range(30):
        forged = token(keys, sign_with="forger")
        made_up = jwt.encode(jwt.decode(forged, options={"verify_signature": False}),
                             serialization.load_pem_private_key((keys / "forger.pem").read_bytes(), None),
                             algorithm="RS256", headers={"kid": f"kid-{uuid.uuid4()}"})
        response = raw("POST", url, made_up, INITIALIZE)
        if response.status_code != 401:
            raise CheckFailed(f"a made-up kid got {response.status_code}")
    check(True, "30 tokens with made-up key ids: 401")
    # The new key: accepted once the set has been re-read.
    deadline = time.monotonic() + 30
    while True:
        response = raw("POST", url, token(keys, "rsa-2"), INITIALIZE)
        if response.status_code == 200:
            break
        if time.monotonic() > deadline:
            raise CheckFailed(f"the rotated-in key is still refused: {response.status_code} {challenge(response)}")
        time.sleep(0.5)
    check(True, "a token signed with the rotated-in key is accepted")
    for mode in ("legacy", "2026-07-28"):
        check(await call_multiply(url, token(keys, "rsa-2"), mode) == 42, f"[{mode}] the SDK with the new key: 42")
    response = raw("POST", url, token(keys, "rsa-1"), INITIALIZE)
    check(response.status_code == 401, f"the rotated-out key is refused: {response.status_code}")


async def sse(url: str, keys: Path) -> None:
    with httpx2.Client(timeout=10) as client:
        response = client.get(url, headers={"accept": "text/event-stream"})
    check(response.status_code == 401 and "resource_metadata=" in challenge(response),
          f"GET /sse without a token: 401 with metadata ({response.status_code})")
    good = token(keys)
    async with Client(sse_client(url, headers={"authorization": f"Bearer {good}"}),
                      read_timeout_seconds=30) as client:
        result = await client.call_tool("multiply", {"a": 6, "b": 7})
        check(result.structured_content["result"] == 42, "legacy SSE with a good token: multiply gives 42")
    base = url.rsplit("/", 1)[0]
    response = raw("POST", base + "/messages?sessionId=x", None, INITIALIZE)
    check(response.status_code == 401, f"POST /messages without a token: 401 ({response.status_code})")


def hs256(secret: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": now + 600, "scope": "mcp"}
    claims.update(overrides)
    return jwt.encode(claims, secret, algorithm="HS256")


async def session_of(url: str, bearer: str, mode: str):
    """An open SDK client (use with `async with`)."""
    http = httpx2.AsyncClient(headers={"authorization": f"Bearer {bearer}"}, timeout=30)
    return http, Client(streamable_http_client(url, http_client=http), mode=sdk_mode(mode),
                        read_timeout_seconds=30)


async def sees(url: str, bearer: str, mode: str) -> dict[str, Any]:
    """What a token sees: names listed, and the outcome of calling each kind."""
    http, client = await session_of(url, bearer, mode)
    async with http, client:
        seen: dict[str, Any] = {
            "tools": sorted(t.name for t in (await client.list_tools()).tools),
            "prompts": sorted(p.name for p in (await client.list_prompts()).prompts),
            "resources": sorted(str(r.uri) for r in (await client.list_resources()).resources),
            "templates": sorted(t.uri_template for t in (await client.list_resource_templates()).resource_templates),
        }
        for kind, call in (
            ("multiply", lambda: client.call_tool("multiply", {"a": 6, "b": 7})),
            ("no_such_tool", lambda: client.call_tool("no_such_tool", {"a": 6, "b": 7})),
            ("analyze_data", lambda: client.get_prompt("analyze_data", {"data_points": "[1, 2]"})),
            ("config", lambda: client.read_resource("data://config")),
        ):
            try:
                result = await call()
                if kind == "multiply":
                    seen[kind] = "error" if result.is_error else result.structured_content["result"]
                else:
                    seen[kind] = "ok"
            except Exception as e:  # noqa: BLE001 - an MCP error
                seen[kind] = str(e).replace("no_such_tool", "NAME").replace("multiply", "NAME")
        return seen


async def views(url: str, secret: str, static_token: str) -> None:
    admin = hs256(secret, scope="mcp admin")
    public = hs256(secret, sub="bob")
    reader = hs256(secret, sub="carol", groups=["staff", "readers"])
    for mode in ("legacy", "2026-07-28"):
        seen = await sees(url, admin, mode)
        check("multiply" in seen["tools"] and seen["multiply"] == 42 and seen["analyze_data"] == "ok",
              f"[{mode}] the admin token lists and calls the admin-tagged multiply: {seen}")
        seen = await sees(url, public, mode)
        check("multiply" not in seen["tools"], f"[{mode}] the public token does not list multiply: {seen['tools']}")
        check(seen["multiply"] == seen["no_such_tool"] and "Unknown tool" in seen["multiply"],
              f"[{mode}] calling multiply with the public token fails as for a tool that does not exist: {seen['multiply']!r}")
        check(seen["prompts"] == ["analyze_data"] and seen["analyze_data"] == "ok" and seen["config"] == "ok",
              f"[{mode}] the public token sees the untagged plugins: {seen}")
        seen = await sees(url, reader, mode)
        check(seen["tools"] == [] and seen["prompts"] == [] and seen["resources"] == ["data://config"]
              and seen["templates"] == ["users://{user_id}/profile"] and seen["config"] == "ok"
              and seen["analyze_data"] != "ok",
              f"[{mode}] groups=readers sees only the profile plugin: {seen}")
    seen = await sees(url, static_token, "2026-07-28")
    check("multiply" not in seen["tools"] and seen["prompts"] == ["analyze_data"],
          f"the static token (scope mcp) gets the public view: {seen['tools']} {seen['prompts']}")

    # The metered view's rate: 5/s with a burst of 5.
    metered = hs256(secret, sub="dave", tier="metered")
    statuses = [raw("POST", url, metered, INITIALIZE) for _ in range(12)]
    limited = [r for r in statuses if r.status_code == 429]
    check(len(limited) >= 5 and all(r.status_code in (200, 429) for r in statuses),
          f"a burst of 12 past the metered view's bucket of 5 gets 429s: {[r.status_code for r in statuses]}")
    retry = int(limited[-1].headers.get("retry-after", "0"))
    check(retry >= 1 and "rate limit of 5/s" in limited[-1].text,
          f"the 429 has Retry-After ({retry}) and names the limit: {limited[-1].text}")
    others = [raw("POST", url, token, INITIALIZE).status_code for token in (admin, public) for _ in range(12)]
    check(others == [200] * 24, f"other views have no rate limit, and other tokens are not slowed: {others}")
    time.sleep(retry)
    response = raw("POST", url, metered, INITIALIZE)
    check(response.status_code == 200, f"after Retry-After the budget has refilled: {response.status_code}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["keys", "matrix", "rotated", "sse", "views"])
    p.add_argument("--secret")
    p.add_argument("--static-token")
    p.add_argument("dir", nargs="?")
    p.add_argument("--url")
    p.add_argument("--sse")
    p.add_argument("--keys")
    args = p.parse_args()
    if args.command == "keys":
        make_keys(Path(args.dir))
        check((Path(args.dir) / "jwks.json").exists(), f"keys written to {args.dir}")
        print(f"{PASSED} passed, 0 failed")
        return 0
    keys = Path(args.keys or ".")
    run = {"matrix": lambda: matrix(args.url, keys), "rotated": lambda: rotated(args.url, keys),
           "sse": lambda: sse(args.sse, keys),
           "views": lambda: views(args.url, args.secret, args.static_token)}[args.command]
    try:
        anyio.run(run)
    except CheckFailed as e:
        print(f"FAIL {e}")
        print(f"{PASSED} passed, 1 failed")
        return 1
    print(f"{PASSED} passed, 0 failed")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
