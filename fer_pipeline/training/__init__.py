"""Training: models, the epoch loop, checkpoints, and the train/evaluate/study runs built from them.

What the train, evaluate and study stages run; a change here reruns the training runs.
"""
