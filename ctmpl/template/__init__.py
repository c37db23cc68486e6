"""Templates: the function registry, the render context, the loader and the two engines.

:mod:`.registry` is the interface the function library (``ctmpl.funcs``) registers into;
the engines (:mod:`.jinja`, :mod:`.gotemplate`) are given a registry by their caller and
never import the library. Go semantics come from ``ctmpl.golang``.
"""
