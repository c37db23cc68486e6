"""ctmpl: keep files equal to templates rendered over live Consul data."""

__version__ = "0.1.0"
