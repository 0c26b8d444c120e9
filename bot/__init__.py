"""blcheck: blocklist checks, bounce diagnosis and listing alerts for mail admins."""

__version__ = "0.1.0"
