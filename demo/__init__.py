"""The newcomer's demo (``make demo``, ``python -m demo``) and the pieces it is made of.

Not part of ctmpl itself: a tiny web backend, helpers that start and stop child processes,
and the load balancer's nginx under a private prefix. The end-to-end tests reuse the helpers.
"""
