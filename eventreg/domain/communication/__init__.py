"""Email to attendees and the venue: the outbox, organizers' messages, reminders, the building's visitor list (入館者リスト)."""
