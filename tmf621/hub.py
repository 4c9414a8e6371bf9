"""Registering and removing listeners (TMF621 `/hub`). The listener's scope is fixed when it is
registered: a customer user's hears its own customer's tickets, a staff member's every ticket."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from tmf621 import events
from tmf621.errors import TmfError
from tmf621.mapping import absolute
from tmf621.models import Listener

MAX_CALLBACK = 500


def _callback(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TmfError(400, _("callback: give the URL events are to be POSTed to."))
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > MAX_CALLBACK:
        raise TmfError(
            400, _("callback: give an http or https URL of at most %(length)d characters.") % {"length": MAX_CALLBACK}
        )
    if not reachable(value.strip()):
        raise TmfError(400, _("callback: its host must resolve to public internet addresses only."))
    return value.strip()


class Unreachable(Exception):
    """The callback's host does not resolve, or not to public addresses only."""


def addresses(callback: str) -> list[str]:
    """The addresses the callback's host resolves to, every one of them public, so that a
    listener cannot make the workers POST into our own network (TMF621_PRIVATE_CALLBACKS allows
    it, for development and tests). A delivery resolves once, here, and connects to one of these
    very addresses (tmf621.delivery): a name that answers a public address to this check and
    127.0.0.1 to the next look-up (DNS rebinding) reaches nothing of ours."""
    parts = urlsplit(callback)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        raise Unreachable("The callback's host name does not resolve.") from None
    found = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not found:
        raise Unreachable("The callback's host name does not resolve.")
    if not settings.TMF621_PRIVATE_CALLBACKS and not all(public(address) for address in found):
        raise Unreachable("The callback's host resolves to an address that is not public.")
    return found


# IPv6 prefixes whose last 32 bits are an IPv4 address a gateway may reach for us: NAT64
# (RFC 6052, 8215) and the deprecated IPv4-compatible addresses; and the deprecated site-local
# range, private like 10/8.
CARRYING_IPV4 = tuple(ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96"))
SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")


def public(address: str) -> bool:
    """A global address, and for IPv6 one whose embedded IPv4 address (mapped, 6to4, NAT64) is
    global too: `64:ff9b::a00:1` reaches 10.0.0.1 through a NAT64 gateway."""
    found = ipaddress.ip_address(address.split("%")[0])
    if not found.is_global:
        return False
    if not isinstance(found, ipaddress.IPv6Address):
        return True
    if found in SITE_LOCAL:
        return False
    embedded = found.ipv4_mapped or found.sixtofour
    if embedded is None and any(found in network for network in CARRYING_IPV4):
        embedded = ipaddress.IPv4Address(int(found) & 0xFFFFFFFF)
    return embedded is None or embedded.is_global


def reachable(callback: str) -> bool:
    """Checked at registration (tmf621.delivery checks again, and connects to what it checked)."""
    if settings.TMF621_PRIVATE_CALLBACKS:
        return True
    try:
        addresses(callback)
    except Unreachable:
        return False
    return True


def register(user, data) -> Listener:
    if not isinstance(data, dict):
        raise TmfError(400, _("Send a JSON object."))
    extra = sorted(set(data) - {"@type", "@baseType", "@schemaLocation", "callback", "query"})
    if extra:
        raise TmfError(400, _("A hub does not take: %(names)s.") % {"names": ", ".join(extra)})
    callback = _callback(data.get("callback"))
    query = data.get("query") or ""
    if not isinstance(query, str) or len(query) > 500:
        raise TmfError(400, _("query: give a text of at most 500 characters."))
    events.parse_query(query)
    customer = None
    if not user.is_staff:
        membership = getattr(user, "customer_membership", None)
        if membership is None:
            raise TmfError(403, _("Only staff and customer users register listeners."))
        customer = membership.customer
    return Listener.objects.create(
        owner=user, customer=customer, callback=callback, query=query, secret=secrets.token_hex(32)
    )


def own(user, hub_id: str) -> Listener:
    """The user's own listener, or 404 (someone else's is not there)."""
    listener = None
    if hub_id.isascii() and hub_id.isdigit() and len(hub_id) < 19:
        listener = Listener.objects.filter(owner=user, pk=int(hub_id)).first()
    if listener is None:
        raise TmfError(404, _("No hub has the id %(id)s.") % {"id": hub_id})
    return listener


def resource(listener: Listener) -> dict:
    return {
        "@type": "Hub",
        "id": str(listener.pk),
        "href": absolute(reverse("tmf621-hub", args=[listener.pk])),
        "callback": listener.callback,
        "query": listener.query,
    }
