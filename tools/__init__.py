"""Tools for people, not stages: the study plan printer, the offline plots page and the lock check."""
