"""The systems the service talks to beyond the desk: the BHXH insurance gateway (``bhyt``), the
desk's insurance checks built on it, the hospital information system (``his``: fields,
administrative-unit codes, webhook outbox) and the clinic list."""
