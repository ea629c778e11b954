"""Delivery of catalog events to subscribers: signed webhooks now, connector targets (an ERP
through the connector pool) alike, each subscription with its own queue, retries and dead letters.
"""
