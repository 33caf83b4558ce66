"""Numbers about events: statistics of one event and across events."""
