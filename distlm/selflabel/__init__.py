"""Self-labelling of unlabelled samples (argmax, optional confidence threshold)."""
from distlm.selflabel.assign import (Assignment, assign_from_formulas, assign_from_logits,
                                     assign_from_probs)
from distlm.selflabel.mix import mix_labels

__all__ = ["Assignment", "assign_from_probs", "assign_from_logits", "assign_from_formulas",
           "mix_labels"]
