"""The organizer's back office: event values, events, import, the attendee list, edits, bulk actions, exports, jobs, the audit log."""
