"""Time rules and what happens at a time: deadlines, schedules, the worker's periodic sweeps."""
