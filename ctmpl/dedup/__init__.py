"""De-duplication: a fleet elects one reader of Consul per template (docs/fleet.md)."""
