"""Study analysis: the variants, choose, design, statistics and the report.

The variants also tell the study stages what to train; the rest reads runs, never trains.
"""
