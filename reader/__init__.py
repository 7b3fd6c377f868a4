"""The CCCD chip reader: transports, APDUs, TLV, secure messaging, BAC/PACE and the LDS
files of ICAO Doc 9303 (parts 10 and 11) as the Vietnamese CCCD uses them.

Public API (docs/architecture.md): ``Transport``, ``ReplayTransport``, ``BACKey``, ``CANKey``,
``keys_for_id_number``, ``open_session``, ``read_card``, ``lds.parse_*``.
"""

from reader.drivers.access import open_session
from reader.drivers.authenticate import AuthOutcome
from reader.drivers.card import CardRead, IncompleteReadError, ReadEvent, ReadStats, read_card
from reader.drivers.read_binary import ReadOptions
from reader.drivers.session import Session
from reader.drivers.transport import ReplayTransport, Transport
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
