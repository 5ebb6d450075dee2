"""shared/ssrf.py: which addresses and URLs are never called (no network: address literals)."""

from __future__ import annotations

import ipaddress

import pytest

from shared.ssrf import UnsafeUrl, blocked_reason, resolve


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.1", "private"), ("172.16.5.4", "private"),
    ("192.168.1.1", "private"), ("fc00::1", "private"), ("169.254.169.254", "metadata"), ("fe80::1", "link-local"),
    ("100.100.100.200", "metadata"), ("100.64.0.1", "public"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a binding
    ("240.0.0.1", "reserved"), ("::ffff:127.0.0.1", "loopback"),
    ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
    ("192.0.2.10", "private"),  # documentation range
])
def test_inside_addresses_are_refused(address: str, why: str) -> None:
    reason = blocked_reason(ipaddress.ip_address(address))
    assert reason is not None
    assert why in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


async def test_https_is_required_unless_developing() -> None:
    with pytest.raises(UnsafeUrl, match="https"):
        await resolve("http://93.184.215.14/hook")
    target = await resolve("http://127.0.0.1:8099/hook", allow_private=True)
    assert (target.scheme, target.port, [str(a) for a in target.addresses]) == ("http", 8099, ["127.0.0.1"])
    checked = await resolve("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x")
    assert checked.port == 443


@pytest.mark.parametrize("url", ["https://93.184.215.14:99999/", "https:///nohost", "https://a:b@93.184.215.14/",
                                 "https://93.184.215.14/#frag", "https://" + "a" * 2000 + ".example/"])
async def test_urls_we_cannot_or_will_not_read(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        await resolve(url)
