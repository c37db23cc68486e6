"""Output: a complete render becomes a file (atomic, perms, owner), a check and commands."""
