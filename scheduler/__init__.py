"""Timed work (reminders, reports): thin jobs that call services, rebuilt from the database.

Jobs arrive with the features that need them (meetings and 三会一课, issue 5); PTB's
JobQueue is already configured with the branch timezone by bot.app.
"""
