"""Notifications to staff: email through SMTP when configured, otherwise an outbox shown in the app."""
