"""Consul's HTTP API over the in-memory state, free of any web framework.

``messages`` (the request/response types), ``web`` (options, ACLs, headers, blocking),
``routing``, the endpoint modules ``agent``, ``catalog``, ``kv``, ``status``, and
``handler`` (``create_handler``, which puts them together).
"""

from ctmpl.memconsul.api.handler import create_handler
from ctmpl.memconsul.api.messages import ApiRequest, ApiResponse, Handler, Headers, QueryParams

__all__ = ["ApiRequest", "ApiResponse", "Handler", "Headers", "QueryParams", "create_handler"]
