"""Where the gateway's token-signing keys come from.

Production: ``GATEWAY_SIGNING_KEY_FILE`` names a mounted secret, either one PEM file or a
directory of ``*.pem`` files (a Kubernetes Secret volume). The gateway only reads it, at
start: every replica mounting the same secret signs with the same key, and a restart changes
nothing. In a directory the keys are taken in file-name order (``signing-2026-01.pem`` before
``signing-2026-07.pem``): the last one signs new tokens, all of them are published in the
JWKS and accepted, so tokens signed with an older key keep verifying until that key is
removed. File names, not modification times, decide: a Secret volume gives every file the
same time. A key named ``*.next.pem`` is published and accepted but never signs: rotation
adds the next key that way first, so every replica knows it before any replica signs with
it (docs/deployment.md, "Rotating the signing key").

Development (``make run``, tests): without that setting the gateway uses ``key_dir``
(``var/keys``) and creates a key there on first start. With ``environment=prod`` it refuses
to start instead: a generated key would differ per replica and die with the pod.
"""

from __future__ import annotations

from pathlib import Path

from services.gateway.settings import GatewaySettings
from shared.tokens import TokenSigner, load_or_create_signer


class SigningKeyMissing(RuntimeError):
    """The gateway cannot sign tokens with the keys it was given (or was given none)."""


NEXT_SUFFIX = ".next.pem"


def mounted_key_files(path: Path) -> list[Path]:
    """The PEM files at ``path`` in signing order: the ``*.next.pem`` ones (published only) first,
    then the others by name; the last signs. SigningKeyMissing if no key can sign."""
    if path.is_file():
        return [path]
    if path.is_dir():
        # Secret volumes keep their data in hidden ``..data`` folders, with links at the top: glob the top.
        files = sorted((p for p in path.glob("*.pem") if p.is_file()), key=lambda p: p.name)
        upcoming = [p for p in files if p.name.endswith(NEXT_SUFFIX)]
        signing = [p for p in files if not p.name.endswith(NEXT_SUFFIX)]
        if signing:
            return upcoming + signing
        raise SigningKeyMissing(f"no *.pem signing key in {path} (*{NEXT_SUFFIX} keys are published, never used to sign)")
    raise SigningKeyMissing(f"the signing key file {path} does not exist")


def load_signer(settings: GatewaySettings) -> TokenSigner:
    """The signer the gateway issues tokens with, from the mounted key(s) or the dev key folder."""
    if settings.signing_key_file is not None:
        files = mounted_key_files(settings.signing_key_file)
        try:
            return TokenSigner([p.read_bytes() for p in files])
        except Exception as exc:  # unreadable, or not a private key python-jose can use
            raise SigningKeyMissing(f"a signing key in {settings.signing_key_file} cannot be used: "
                                    f"{type(exc).__name__}") from exc
    if settings.environment == "prod":
        raise SigningKeyMissing(
            "environment=prod needs a mounted signing key: set GATEWAY_SIGNING_KEY_FILE to a PEM file "
            "or a directory of them (docs/deployment.md). The gateway never generates keys in production."
        )
    return load_or_create_signer(settings.key_dir)
