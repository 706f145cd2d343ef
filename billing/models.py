"""Billing drafts, approvals and audit (filled by the billing work)."""
