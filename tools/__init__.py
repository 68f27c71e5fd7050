"""Tools for people, not stages: the study plan printer and the offline plots page."""
