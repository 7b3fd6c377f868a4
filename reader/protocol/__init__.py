"""The sans-I/O protocol objects of ICAO 9303-11, both roles side by side (as h11 keeps client
and server): they take and return bytes and never touch a transport. The terminal's side is
driven by :mod:`reader.drivers`; the card side by the simulated chip in ``fixtures``.

- :mod:`~reader.protocol.cipher` -- 3DES / AES: key derivation, padding, MAC, CBC, SM IV
- :mod:`~reader.protocol.sm` -- secure messaging (§9.8), one object for either side
- :mod:`~reader.protocol.bac` -- Basic Access Control (§4.3), terminal and chip
- :mod:`~reader.protocol.pace` (terminal), :mod:`~reader.protocol.pace_chip` (chip),
  :mod:`~reader.protocol.pace_mapping` (GM, IM, CAM), :mod:`~reader.protocol.pace_messages`
  (7C, 7F49, password) -- PACE (§4.4)
- :mod:`~reader.protocol.groups` -- the key-agreement groups of PACE and Chip Authentication
- :mod:`~reader.protocol.chip_auth` -- Chip Authentication (§6.2), terminal and chip
- :mod:`~reader.protocol.active_auth` -- Active Authentication (§6.1), terminal and chip

docs/architecture.md "Where things live" has the whole layout; docs/spec/cccd-chip.md the chip.
"""
