"""The HTTP face of the service (docs/architecture.md "Service"): the routes, their typed
dependencies, authentication and rate limits, the network edges and CORS, RFC 9457 problems,
the live event bus and push channel, the desk page, the HIS browser SDK and the metrics."""
