"""Expression class names → py-feat's emotion column names.

py-feat names its seven emotion columns ``anger, disgust, fear, happiness, sadness,
surprise, neutral``; datasets spell them differently (FER2013 ``angry``/``happy``/
``sad``, AffectNet ``Happy``...). :data:`PYFEAT_EMOTIONS` maps each known spelling
(case-insensitive) to py-feat's; a class without an entry keeps its own name.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

PYFEAT_COLUMNS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")

#: spelling (lower case) → py-feat column
PYFEAT_EMOTIONS: Dict[str, str] = {
    **{name: name for name in PYFEAT_COLUMNS},
    "angry": "anger", "anger": "anger",
    "disgusted": "disgust",
    "fearful": "fear", "scared": "fear",
    "happy": "happiness", "joy": "happiness",
    "sad": "sadness", "sorrow": "sadness",
    "surprised": "surprise",
    "neutrality": "neutral", "calm": "neutral",
}


def emotion_columns(names: Sequence[str]) -> List[str]:
    """Column names for class (or pseudo-emotion) ``names``, in the same order.

    Known spellings become py-feat's names; if two classes would land on one name
    (``happy`` and ``happiness`` both present) all keep their own names.

    >>> emotion_columns(["Angry", "happy", "t-shirt"])
    ['anger', 'happiness', 't-shirt']
    """
    mapped = [PYFEAT_EMOTIONS.get(str(n).lower(), str(n)) for n in names]
    return mapped if len(set(mapped)) == len(mapped) else [str(n) for n in names]
