"""Times as certificates and CMS carry them, made timezone-aware in one place.

RFC 5280 §4.1.2.5 and RFC 5652 §11.3 (signingTime) give times in UTC; a value read without a
zone (a GeneralizedTime without ``Z``, tolerated from real documents) is taken as UTC, so
every comparison in ``verify`` is between aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from asn1crypto import x509


def aware(value: datetime) -> datetime:
    """``value`` itself when it has a zone, else ``value`` read as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def validity(cert: x509.Certificate) -> tuple[datetime, datetime]:
    """(notBefore, notAfter) of ``cert``, aware."""
    period = cert["tbs_certificate"]["validity"]
    return aware(period["not_before"].native), aware(period["not_after"].native)
