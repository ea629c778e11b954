"""Accounts payable: invoices matched against their purchase order and receipts."""
