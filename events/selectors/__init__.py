"""Event Services' reads, one module per capability (relays, staffing, attendees)."""
