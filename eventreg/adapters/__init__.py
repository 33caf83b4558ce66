"""The outside world (PDF, QR, mail, calendar files). Plain values in, bytes out; no rules."""
