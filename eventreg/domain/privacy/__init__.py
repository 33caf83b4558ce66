"""Personal data after an event: retention, purges, one person's data on request."""
