"""Data: reading FER2013 (or generating the stand-in), duplicates, the split, scaling, tensors.

What the fetch, split and preprocess stages run; a change here reruns the data stages and everything after them.
"""
