"""Meter-data validation rules (pure): is a session's metering plausible and billable?"""
