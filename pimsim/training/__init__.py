"""In-memory training: update policies, the training loop (torch) and update records.

Importing this package does not import torch; :mod:`pimsim.training.loop` does.
"""

from pimsim.training.policies import POLICIES, UpdatePolicy, make_policy, register_policy

__all__ = ["POLICIES", "UpdatePolicy", "make_policy", "register_policy"]
