"""Serving: the released model (release stage), fer-predict and fer-export."""
