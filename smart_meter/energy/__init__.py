"""Energy arithmetic shared by the streaming and batch sides: proportional attribution of
register differences to half-hours, and time-of-day tariffs."""
