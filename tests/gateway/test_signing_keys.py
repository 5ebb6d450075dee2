"""Signing keys from a mounted secret: every replica signs with the same key, tokens outlive a
restart, rotation publishes old and new keys, and production refuses to start without one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.gateway.signing import SigningKeyMissing
from shared.tokens import TokenSigner, generate_private_pem
from tests.gateway.conftest import GATEWAY, MakeGateway
from tests.gateway.factories import make_client

GRANT = {"grant_type": "client_credentials"}


def _mount(folder: Path, *names: str) -> Path:
    """A folder laid out like a Kubernetes Secret volume: the files are links into ``..data``."""
    data = folder / "..2026_12_05_00_00_00.000000001"
    data.mkdir(parents=True)
    (folder / "..data").symlink_to(data.name)
    for name in names:
        (data / name).write_bytes(generate_private_pem())
        (folder / name).symlink_to(Path("..data") / name)
    return folder


def _kid(token: str) -> str:
    import base64
    import json

    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


async def _token(client: httpx.AsyncClient, basic: dict[str, str]) -> str:
    r = await client.post("/oauth/token", data=GRANT, headers=basic)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def test_replicas_with_one_mounted_key_accept_each_others_tokens_and_after_a_restart(
    make_gateway: MakeGateway, tmp_path: Path
) -> None:
    keys = _mount(tmp_path / "keys", "signing-2026-01.pem", "signing-2026-07.pem")
    first = await make_gateway({}, signing_key_file=keys)
    second = await make_gateway({}, signing_key_file=keys)
    admin = await make_client(first, scopes=("admin",))
    async with (httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url=GATEWAY) as one,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url=GATEWAY) as two):
        token = await _token(one, admin.basic())
        on_the_other = await two.get("/v1/clients", headers={"Authorization": f"Bearer {token}"})
        jwks_one, jwks_two = (await one.get("/.well-known/jwks.json")).json(), (await two.get("/.well-known/jwks.json")).json()
    assert on_the_other.status_code == 200, on_the_other.text
    # Both keys published, by both replicas; the key whose name sorts last signs.
    assert jwks_one == jwks_two
    assert len(jwks_one["keys"]) == 2
    assert _kid(token) == jwks_one["keys"][-1]["kid"]

    # A restart: a new process with the same mount knows the token it never issued.
    restarted = await make_gateway({}, signing_key_file=keys)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=restarted), base_url=GATEWAY) as three:
        after = await three.get("/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 200, after.text


async def test_a_single_key_file_signs(make_gateway: MakeGateway, tmp_path: Path) -> None:
    key = tmp_path / "signing.pem"
    key.write_bytes(generate_private_pem())
    app = await make_gateway({}, signing_key_file=key)
    partner = await make_client(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as client:
        token = await _token(client, partner.basic())
        jwks = (await client.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in jwks["keys"]] == [_kid(token)]
    assert list(tmp_path.iterdir()) == [key]  # nothing written beside it


async def test_a_next_key_is_published_and_accepted_but_does_not_sign(make_gateway: MakeGateway, tmp_path: Path) -> None:
    """Rotation, step 1: every replica knows the next key before any replica signs with it."""
    keys = _mount(tmp_path / "keys", "signing-2026-01.pem", "signing-2026-07.next.pem")
    before = await make_gateway({}, signing_key_file=keys)
    partner = await make_client(before)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=before), base_url=GATEWAY) as client:
        token = await _token(client, partner.basic())
        jwks = (await client.get("/.well-known/jwks.json")).json()
    current, upcoming = (_thumbprint_of(keys / name) for name in ("signing-2026-01.pem", "signing-2026-07.next.pem"))
    assert {k["kid"] for k in jwks["keys"]} == {current, upcoming}
    assert _kid(token) == current

    # Step 2: the next key, renamed, signs on a replica started later; the earlier replica accepts its tokens.
    renamed = _mount(tmp_path / "renamed", "signing-2026-01.pem", "signing-2026-07.pem")
    for name in ("signing-2026-01.pem", "signing-2026-07.pem"):
        source = keys / (name if name.endswith("01.pem") else "signing-2026-07.next.pem")
        (renamed / name).resolve().write_bytes(source.read_bytes())
    after = await make_gateway({}, signing_key_file=renamed)
    admin = await make_client(after, scopes=("admin",))
    async with (httpx.AsyncClient(transport=httpx.ASGITransport(app=after), base_url=GATEWAY) as new,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=before), base_url=GATEWAY) as old):
        rotated = await _token(new, admin.basic())
        accepted = await old.get("/v1/clients", headers={"Authorization": f"Bearer {rotated}"})
    assert _kid(rotated) == upcoming
    assert accepted.status_code == 200, accepted.text


def test_only_next_keys_cannot_sign(gateway_settings: Callable[..., GatewaySettings], tmp_path: Path) -> None:
    keys = _mount(tmp_path / "keys", "signing-2026-07.next.pem")
    with pytest.raises(SigningKeyMissing, match="never used to sign"):
        create_app(gateway_settings(signing_key_file=keys), upstreams={})


def _thumbprint_of(path: Path) -> str:
    return TokenSigner([path.read_bytes()]).kid


def _prod(gateway_settings: Callable[..., GatewaySettings], **overrides: object) -> GatewaySettings:
    return gateway_settings(environment="prod", webhook_secret="a-real-secret-" + uuid.uuid4().hex, **overrides)


def test_production_refuses_to_start_without_a_mounted_key(
    gateway_settings: Callable[..., GatewaySettings], tmp_path: Path
) -> None:
    with pytest.raises(SigningKeyMissing, match="GATEWAY_SIGNING_KEY_FILE"):
        create_app(_prod(gateway_settings, key_dir=tmp_path / "would-be-generated"), upstreams={})
    assert not (tmp_path / "would-be-generated").exists()


@pytest.mark.parametrize("layout", ["missing", "empty", "not-a-key"])
def test_a_mount_without_a_usable_key_refuses_to_start(
    gateway_settings: Callable[..., GatewaySettings], tmp_path: Path, layout: str
) -> None:
    target = tmp_path / "keys"
    if layout != "missing":
        target.mkdir()
    if layout == "not-a-key":
        (target / "signing.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SigningKeyMissing):
        create_app(_prod(gateway_settings, signing_key_file=target), upstreams={})


def test_production_starts_with_a_mounted_key(gateway_settings: Callable[..., GatewaySettings], tmp_path: Path) -> None:
    keys = _mount(tmp_path / "keys", "signing-2026-01.pem")
    app = create_app(_prod(gateway_settings, signing_key_file=keys), upstreams={})
    assert len(app.state.signer.jwks()["keys"]) == 1


def test_an_empty_setting_means_no_mounted_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_SIGNING_KEY_FILE", "")
    assert GatewaySettings().signing_key_file is None
