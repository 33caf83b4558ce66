"""Business rules as plain functions: no request, no adapters, no commits (callers commit)."""
