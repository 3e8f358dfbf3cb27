"""Why a download failed, in a few words an admin can act on ("DNS lookup failed", "timeout").

Twisted and Scrapy name the same failure differently across versions (``DNSLookupError`` /
``CannotResolveHostError``, ``TimeoutError`` / ``DownloadTimeoutError``), so causes are matched
on the class names of the exception and its bases, not on imported classes.
"""

from __future__ import annotations

CAUSES: dict[str, str] = {
    "DNSLookupError": "DNS lookup failed",
    "CannotResolveHostError": "DNS lookup failed",
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "UserTimeoutError": "timeout",
    "DownloadTimeoutError": "timeout",
    "ConnectionRefusedError": "connection refused",
    "DownloadConnectionRefusedError": "connection refused",
    "NoRouteError": "no route to host",
    "SSLError": "TLS handshake failed",
    "ConnectionLost": "connection lost",
    "ConnectionDone": "connection closed by the server",
    "ResponseNeverReceived": "connection closed before a response",
    "ResponseFailed": "connection lost during the response",
    "ResponseDataLossError": "connection lost during the response",
    "PotentialDataLoss": "connection lost during the response",
    "DownloadCancelledError": "page larger than max_page_bytes (download cancelled)",
    "CancelledError": "page larger than max_page_bytes (download cancelled)",
    "TunnelError": "proxy tunnel failed",
    "ConnectError": "connection failed",
}


def download_cause(error: BaseException | type[BaseException] | None) -> str:
    """The short English cause of a failed download (the exception's class name when unknown)."""
    if error is None:
        return "download failed"
    kind = error if isinstance(error, type) else type(error)
    if kind.__module__.startswith("OpenSSL"):
        return "TLS handshake failed"
    for base in kind.__mro__:
        if base.__name__ in CAUSES:
            return CAUSES[base.__name__]
    return kind.__name__
