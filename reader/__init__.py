"""The CCCD chip reader: transports, APDUs, TLV, secure messaging, BAC/PACE and the LDS
files of ICAO Doc 9303 (parts 10 and 11) as the Vietnamese CCCD uses them.

Public API (docs/architecture.md): ``Transport``, ``ReplayTransport``, ``BACKey``, ``CANKey``,
``keys_for_id_number``, ``open_session``, ``read_card``, ``lds.parse_*``.
"""

from reader.card import CardRead, IncompleteReadError, ReadEvent, ReadStats, read_card
from reader.chipauth import AuthOutcome
from reader.errors import (
    AccessDeniedError,
    CardError,
    CardRemovedError,
    ExtendedLengthError,
    ParseError,
    ProtocolError,
    SecureMessagingError,
    StatusWordError,
    TransportError,
    TransportTimeoutError,
    UnsupportedError,
)
from reader.keys import AccessKey, BACKey, CANKey, InvalidKeyError, keys_for_id_number
from reader.profile import ReaderProfile
from reader.session import ReadOptions, Session, open_session
from reader.transport import ReplayTransport, Transport

__version__ = "0.1.0"

__all__ = [
    "AccessDeniedError",
    "AccessKey",
    "AuthOutcome",
    "BACKey",
    "CANKey",
    "CardError",
    "CardRead",
    "CardRemovedError",
    "ExtendedLengthError",
    "IncompleteReadError",
    "InvalidKeyError",
    "ParseError",
    "ProtocolError",
    "ReadEvent",
    "ReadOptions",
    "ReadStats",
    "ReaderProfile",
    "ReplayTransport",
    "SecureMessagingError",
    "Session",
    "StatusWordError",
    "Transport",
    "TransportError",
    "TransportTimeoutError",
    "UnsupportedError",
    "keys_for_id_number",
    "open_session",
    "read_card",
]
