"""Delivery channels: email (outbox folder or SMTP) and chat webhooks. Each ``send`` raises
``DeliveryError`` on failure; secrets come from the environment only."""
