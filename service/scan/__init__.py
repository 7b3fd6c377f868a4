"""The scan pipeline (docs/architecture.md "The data path (a scan)"): the readers the service
drives and what it remembers of them, the queue of one read at a time per reader, the pipeline
that calls ``reader`` and ``verify``, and what a finished scan leaves behind."""
