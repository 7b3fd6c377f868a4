"""The drivers: the code that does I/O with a card and runs the protocol objects of
:mod:`reader.protocol` over it.

- :mod:`~reader.drivers.transport` -- the ``Transport`` protocol and the strict ``ReplayTransport``
- :mod:`~reader.drivers.pcsc` -- PC/SC readers (the one module that imports pyscard),
  :mod:`~reader.drivers.t0` (T=0 GET RESPONSE), :mod:`~reader.drivers.events` (card insert and
  removal)
- :mod:`~reader.drivers.access` -- opening a session: EF.CardAccess, PACE or BAC
- :mod:`~reader.drivers.session` -- an open chip: the channel under secure messaging
- :mod:`~reader.drivers.read_binary` -- the READ BINARY engine (sizes, ladder, SFI, odd INS)
- :mod:`~reader.drivers.authenticate` -- choosing and running Chip or Active Authentication
- :mod:`~reader.drivers.card` -- ``read_card``: the whole read, partial results kept on error

docs/architecture.md "Where things live" has the whole layout.
"""
