"""The error tree of the reader (docs/architecture.md, "Errors").

Every failure the reader reports is a ``CardError``::

    CardError
    ├── TransportError          no reader, no card, card removed, PC/SC failure, timeout
    │   ├── CardRemovedError    the card left the field (or was reset) during a command
    │   ├── ExtendedLengthError the reader failed an extended-length APDU (no status word)
    │   └── TransportTimeoutError  the card or reader did not answer in time
    ├── ProtocolError           malformed APDU/TLV/ASN.1 from the card
    │   └── SecureMessagingError   bad MAC, missing DO99/DO8E, SSC mismatch, unprotected answer
    ├── StatusWordError (.sw)   SW other than 9000 where success was needed
    │   └── AccessDeniedError   wrong access key (BAC/PACE refused), 6982 under SM
    ├── ParseError              a data group that does not parse (file name and offset)
    └── UnsupportedError        the card asks for something this reader does not implement

``verify`` never raises for "not genuine": a verdict is data.
"""

from __future__ import annotations


class CardError(Exception):
    """Base of every error the reader raises."""


class TransportError(CardError):
    """No reader, no card, card removed, PC/SC failure or timeout."""


class CardRemovedError(TransportError):
    """The card was removed (or lost power) while we were talking to it."""


class ExtendedLengthError(TransportError):
    """An extended-length APDU failed at the transport (a reader error, not a status word):
    the chip may or may not have processed it, so secure messaging is out of step."""


class TransportTimeoutError(TransportError):
    """The card or the reader did not answer within the allowed time."""


class ProtocolError(CardError):
    """The card answered something that is not valid APDU/TLV/ASN.1."""


class SecureMessagingError(ProtocolError):
    """A secure-messaging answer failed its checks (MAC, data objects, SSC, unprotected)."""


class StatusWordError(CardError):
    """The card answered a status word other than 9000 where success was needed."""

    def __init__(self, sw: int, message: str | None = None) -> None:
        self.sw = sw
        super().__init__(message or f"card answered status word {sw:04X}")


class AccessDeniedError(StatusWordError):
    """The access key was refused (BAC/PACE) or a protected file was denied (6982)."""


class ParseError(CardError):
    """A file or data object does not parse; names the file and the offset where known."""

    def __init__(self, message: str, *, offset: int | None = None, file: str | None = None) -> None:
        self.offset = offset
        self.file = file
        self.reason = message
        where = []
        if file is not None:
            where.append(file)
        if offset is not None:
            where.append(f"offset {offset}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)

    def in_file(self, file: str) -> ParseError:
        """The same error with the file name filled in (when it was not known yet)."""
        if self.file is not None:
            return self
        return ParseError(self.reason, offset=self.offset, file=file)


class UnsupportedError(CardError):
    """The card needs a protocol or algorithm this reader does not (yet) implement."""
