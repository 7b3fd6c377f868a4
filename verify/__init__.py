"""Verification of what the reader read: passive authentication against the CSCA trust store
(ICAO 9303-11 §5.1), active authentication (§6.1), the Vietnamese text layer, the QR code and
the identity record. Pure: no I/O; time and trust are arguments; verdicts are data.
"""

from verify import qr, vntext
from verify.active_auth import verify_active_authentication
from verify.check import CardCheck, check_card
from verify.identity import Identity, build_identity
from verify.passive import PassiveAuthResult, Policy, passive_authentication
from verify.qr import QRIdentity, parse_qr
from verify.trust import TrustStore

__all__ = [
    "CardCheck",
    "Identity",
    "PassiveAuthResult",
    "Policy",
    "QRIdentity",
    "TrustStore",
    "build_identity",
    "check_card",
    "parse_qr",
    "passive_authentication",
    "qr",
    "verify_active_authentication",
    "vntext",
]
