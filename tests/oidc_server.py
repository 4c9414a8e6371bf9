"""A real OpenID provider for the tests: the npm registry's `oidc-provider` (pinned in
package-lock.json, installed by `npm ci`) run by tests/oidc/provider.mjs on loopback, with one
confidential client and the accounts a test gives it. The `oidc_provider_for` fixture in
tests/conftest.py starts one per call and stops it after the test."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "tests" / "oidc" / "provider.mjs"
PACKAGE = ROOT / "node_modules" / "oidc-provider" / "package.json"
NODE = shutil.which("node")
CLIENT_ID = "desk"


def missing() -> str | None:
    """Why no provider can be started here, or None when one can."""
    if NODE is None:
        return "no Node.js (apt-get install nodejs)"
    if not PACKAGE.exists():
        return f"no {PACKAGE.parent.relative_to(ROOT)} (npm ci)"
    return None


def require() -> None:
    """Skip the test when no provider can be started here; fail it instead under REQUIRE_OIDC
    (CI sets it, so that a missing `npm ci` cannot pass as skipped tests)."""
    if reason := missing():
        if os.environ.get("REQUIRE_OIDC"):
            raise RuntimeError(f"REQUIRE_OIDC is set but there is {reason}")
        pytest.skip(reason)


@dataclass(frozen=True)
class Account:
    """A person at the provider. `amr` lists how they authenticate (RFC 8176: "pwd", "mfa",
    "otp", "hwk", …); None leaves the claim out of the id_token, as many providers do."""

    id: str
    password: str
    email: str
    name: str = ""
    email_verified: bool = True
    groups: Sequence[str] = ()
    amr: Sequence[str] | None = None

    def as_config(self) -> dict[str, Any]:
        config = asdict(self)
        config["groups"] = list(self.groups)
        if self.amr is None:
            del config["amr"]
        else:
            config["amr"] = list(self.amr)
        return config


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    accounts: tuple[Account, ...]
    process: subprocess.Popen[bytes] = field(repr=False)
    log: Path = field(repr=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def discovery(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.discovery_url, timeout=5) as response:
            return json.load(response)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start(
    root: Path,
    *,
    redirect_uris: Sequence[str],
    accounts: Sequence[Account],
    client_id: str = CLIENT_ID,
    client_secret: str | None = None,
    timeout: float = 20.0,
) -> OidcProvider:
    """Start the provider with its files under `root`; return once its discovery document answers."""
    if reason := missing():
        raise RuntimeError(f"cannot start the OpenID provider: {reason}")
    assert NODE is not None
    port = free_port()
    secret = client_secret or secrets.token_urlsafe(24)
    config = root / "provider.json"
    config.write_text(
        json.dumps(
            {
                "port": port,
                "client": {"client_id": client_id, "client_secret": secret, "redirect_uris": list(redirect_uris)},
                "accounts": [account.as_config() for account in accounts],
            }
        )
    )
    log = root / "provider.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [NODE, str(PROGRAM), str(config)], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    provider = OidcProvider(
        issuer=f"http://127.0.0.1:{port}",
        client_id=client_id,
        client_secret=secret,
        redirect_uris=tuple(redirect_uris),
        accounts=tuple(accounts),
        process=process,
        log=log,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            if provider.discovery().get("issuer") == provider.issuer:
                return provider
        except (OSError, ValueError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(provider)
            raise RuntimeError(f"the OpenID provider did not answer at {provider.discovery_url}:\n{provider.output()}")
        time.sleep(0.05)


def stop(provider: OidcProvider) -> None:
    if provider.process.poll() is None:
        provider.process.terminate()
        try:
            provider.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            provider.process.kill()
            provider.process.wait()


@contextlib.contextmanager
def running(*, redirect_uris: Sequence[str], accounts: Sequence[Account], **options: Any) -> Iterator[OidcProvider]:
    root = Path(tempfile.mkdtemp(prefix="servicedesk-oidc-"))
    try:
        provider = start(root, redirect_uris=redirect_uris, accounts=accounts, **options)
        try:
            yield provider
        finally:
            stop(provider)
    finally:
        shutil.rmtree(root, ignore_errors=True)
