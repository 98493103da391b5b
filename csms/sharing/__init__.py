"""Owner units' piles shared with the public on schedules: calendars, windows, access decisions."""
