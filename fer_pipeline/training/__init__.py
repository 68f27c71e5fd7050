"""Training: models, the epoch loop, checkpoints, and the train/evaluate/study runs built from them.

What the train, evaluate and study stages run; a change here reruns the training runs.
"""

import torch

# Denormal floats flush to zero (FTZ/DAZ) in every process that trains or evaluates. Adam's second-moment state
# for weights whose gradients vanish decays into denormals within an epoch or two, and an Intel core computes on
# denormals many times slower: on a 2-core Xeon the batch-32 MLP's fused Adam step took 6.5x as long in the second
# epoch as in the first, the baseline trained in 92 s with denormals and 35 s without (same best epoch and valid
# scores). Set at import, before any tensor op: set after torch's threads had started, the 2-thread MLP's steps
# stayed 3.5x slower.
torch.set_flush_denormal(True)
