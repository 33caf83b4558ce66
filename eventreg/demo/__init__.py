"""The demo: event files (seminar.yaml, briefing.yaml) and the past events with history (history.py)."""
