"""Event Services operations (relay clusters, providers, staff, assignments): a later issue."""
