"""Signing up and keeping a seat: sign-up, cancel, the waiting list, capacity, email-confirmation holds, passes."""
