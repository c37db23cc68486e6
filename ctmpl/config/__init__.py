"""Configuration files and the other sources of configuration.

``sources`` finds and parses files (YAML, JSON, consul-template's HCL) into a line-aware
``tree``; ``decode`` checks a tree against the ``schema`` and yields a layer of the keys it
sets; ``env`` and ``flags`` make layers from the environment and the command line; ``merge``
combines layers by precedence and ``build`` turns the result into
:class:`ctmpl.config.model.Config`.
"""
