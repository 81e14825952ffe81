"""Telegram-facing code: parse the update, authorize, call one service, render, reply."""
