"""What a crawl may fetch, and from whose bytes: everything a source serves is written by strangers.

Pure functions used by the URL-policy and credentials middlewares and the spiders:

- only ``http`` and ``https`` URLs are fetched (:data:`ALLOWED_SCHEMES`);
- a host that resolves to a loopback, private, link-local, unique-local, multicast, reserved or
  cloud-metadata address is refused (:func:`address_refusal`, :func:`host_refusal`);
- credentials of a source belong to its origins (:func:`source_origins`);
- decompression stops at a size limit (:func:`gunzip_bounded`).
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import socket
import struct
import zlib
from collections.abc import Iterable
from urllib.parse import urlsplit

from config import Source

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# Names of instance-metadata services that answer on link-local or provider-internal addresses.
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, Tencent Cloud …
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    }
)
CHUNK = 64 * 1024

Origin = tuple[str, str, int]  # scheme, lower-case host, port


class TooLarge(ValueError):
    """Decompressed data passed its size limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes when decompressed")
        self.limit = limit


def origin(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an http(s) URL, default ports filled in; ``None`` otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES or not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]


def own_urls(source: Source) -> list[str]:
    """The URLs a source's admin wrote: its start URLs and its search URL (keyword filled in)."""
    urls = list(source.start_urls)
    if source.search_url:
        urls.append(source.search_url.replace("{keyword}", "x"))
    return urls


def source_origins(source: Source) -> set[Origin]:
    """Where the source's ``headers_env`` / ``cookies_env`` may be sent: the origins of its start
    URLs and search URL, or exactly its ``credential_hosts`` when it lists them."""
    urls: Iterable[str] = source.credential_hosts if source.credential_hosts is not None else own_urls(source)
    return {found for found in map(origin, urls) if found is not None}


def address_refusal(address: str) -> str | None:
    """Why a crawl must not connect to this IP address (``"loopback"``, ``"private"`` …), or ``None``."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            inner = address_refusal(str(mapped))
            if inner is not None:
                return inner
    checks = (
        (ip in METADATA_ADDRESSES, "cloud metadata"),
        (ip.is_loopback, "loopback"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.IPv6Network("fc00::/7"), "unique-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "not globally routable"),
    )
    return next((kind for hit, kind in checks if hit), None)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6); ``[]`` when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def host_name(host: str) -> str:
    """A URL's host as the checks compare it: lower case, no trailing dot, no IPv6 brackets."""
    return host.lower().rstrip(".").strip("[]")


def checked_addresses(host: str, port: int) -> tuple[list[str], str | None]:
    """The addresses ``host`` resolves to (itself when it is an IP literal) and the verdict of
    :func:`host_refusal` on exactly those, so a caller can connect to what was checked."""
    name = host_name(host)
    if name in METADATA_HOSTS:
        return [], f"refused private address {name} (cloud metadata)"
    try:
        ipaddress.ip_address(name)
        addresses = [name]
    except ValueError:
        addresses = resolve(name, port)
    for address in addresses:
        kind = address_refusal(address)
        if kind is not None:
            shown = address if address == name else f"{address} of {name}"
            return addresses, f"refused private address {shown} ({kind})"
    return addresses, None


def host_refusal(host: str, port: int) -> str | None:
    """``"refused private address ADDR (KIND)"`` when the host is a metadata name or an IP literal
    of such a kind, or when ANY address it resolves to is; ``None`` when all are public (or it
    does not resolve: the download then fails with the DNS error)."""
    return checked_addresses(host, port)[1]


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """Gunzip ``data`` in chunks, raising :class:`TooLarge` once the output passes ``limit`` bytes
    (``limit`` 0: unbounded). A truncated or corrupt tail keeps what was decoded before it;
    data that is not gzip at all raises ``OSError``."""
    out = io.BytesIO()
    size = 0
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        while True:
            try:
                chunk = stream.read1(CHUNK)
            except (OSError, EOFError, zlib.error, struct.error) as exc:
                if size:
                    break
                raise OSError(f"not valid gzip ({exc})") from exc
            if not chunk:
                break
            size += len(chunk)
            if limit and size > limit:
                raise TooLarge(limit)
            out.write(chunk)
    return out.getvalue()
