"""Stripe payments, webhooks, refunds, invoices and credit notes."""
