"""The day itself: scanning passes, check-in, walk-ins."""
