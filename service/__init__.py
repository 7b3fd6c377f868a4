"""The desk service: HTTP API, CLI, persistence and the BHXH gateway client."""
