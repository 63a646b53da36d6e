"""Billing pages: organiser payment pages, invoices, finance, the Stripe webhook."""
