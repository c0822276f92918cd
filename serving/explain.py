"""Explain only the predicted class of a LightGBM multiclass model, with exact TreeSHAP values.

``shap.TreeExplainer.shap_values`` and LightGBM's ``pred_contrib`` both compute the contributions
of every class, which costs ``num_class`` times the work when a reviewer needs one class. A
LightGBM multiclass model stores its trees class-interleaved: tree ``i`` adds to the raw score of
class ``i % num_class``. :class:`PredictedClassExplainer` cuts the model text, once, into one
single-output model per class holding only that class's trees, and asks each of them for
``pred_contrib`` only on the rows predicted as its class. The values are the same path-dependent
TreeSHAP values that ``shap.TreeExplainer`` gives for that class, and the contributions plus the
base value add up to the class's raw score.
"""

from __future__ import annotations

import logging
import re

import lightgbm as lgb
import numpy as np

__all__ = [
    "PARALLEL_ROWS",
    "ClassContributions",
    "PredictedClassExplainer",
    "prediction_threads",
    "split_model_by_class",
]

logger = logging.getLogger(__name__)

# Below this many rows LightGBM predicts on one thread, because starting its OpenMP threads costs
# more than they save. From here on it uses every core (num_threads=0): on a 2-core machine that
# halved LightGBM's time on 8 to 1,000 rows of the default bundle (measured 2026-12-04).
PARALLEL_ROWS = 16

_TREE_HEADER = re.compile(r"^Tree=\d+$", re.MULTILINE)
_TREES_END = "end of trees"


def prediction_threads(rows: int) -> int:
    """Return the ``num_threads`` for a LightGBM prediction on ``rows`` rows: 1, or 0 for every core."""
    return 1 if rows < PARALLEL_ROWS else 0


class ClassContributions:
    """Contributions of the explained class for each row, shaped (rows, features), and base values.

    ``values[i] . sum() + base[i]`` is the raw score of row ``i`` for its explained class.
    """

    __slots__ = ("base", "values")

    def __init__(self, values: np.ndarray, base: np.ndarray) -> None:
        self.values = values
        self.base = base


def split_model_by_class(model_text: str) -> list[str]:
    """Split a LightGBM multiclass model text into one single-output model text per class.

    Each result keeps the header (feature names, feature infos), sets ``num_class`` and
    ``num_tree_per_iteration`` to 1 and the objective to regression, keeps the trees of its
    class renumbered from 0, and drops ``tree_sizes`` so LightGBM parses the trees one by one.
    A model with one class comes back unchanged as the only element.
    """
    header, rest = _split_header(model_text)
    num_class = int(_header_value(header, "num_tree_per_iteration") or _header_value(header, "num_class") or 1)
    if num_class == 1:
        return [model_text]

    trees_text, _, tail = rest.partition(_TREES_END)
    trees = _tree_blocks(trees_text)
    if len(trees) % num_class != 0:
        raise ValueError(
            f"the model has {len(trees)} trees, which is not a multiple of its {num_class} classes: "
            "the model text is truncated or not a LightGBM multiclass model"
        )

    class_header = _single_output_header(header)
    models = []
    for class_index in range(num_class):
        class_trees = trees[class_index::num_class]
        renumbered = [f"Tree={number}\n{body}" for number, body in enumerate(class_trees)]
        models.append(class_header + "\n" + "\n".join(renumbered) + "\n" + _TREES_END + tail)
    return models


def _split_header(model_text: str) -> tuple[str, str]:
    match = _TREE_HEADER.search(model_text)
    if match is None:
        raise ValueError("the model text has no `Tree=` block: it is not a LightGBM text model")
    return model_text[: match.start()], model_text[match.start():]


def _header_value(header: str, key: str) -> str | None:
    for line in header.splitlines():
        if line.startswith(key + "="):
            return line.split("=", 1)[1]
    return None


def _single_output_header(header: str) -> str:
    lines = []
    for line in header.strip("\n").splitlines():
        if line.startswith(("num_class=", "num_tree_per_iteration=")):
            key = line.split("=", 1)[0]
            lines.append(f"{key}=1")
        elif line.startswith("objective="):
            # The raw score of a regression model is the plain sum of its trees, which is what
            # each class's raw score is in the multiclass model.
            lines.append("objective=regression")
        elif line.startswith("tree_sizes="):
            continue
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _tree_blocks(trees_text: str) -> list[str]:
    """Return the body of each ``Tree=`` block (without its header line), in file order."""
    starts = [match for match in _TREE_HEADER.finditer(trees_text)]
    blocks = []
    for position, match in enumerate(starts):
        end = starts[position + 1].start() if position + 1 < len(starts) else len(trees_text)
        body = trees_text[match.end():end].strip("\n")
        blocks.append(body + "\n")
    return blocks


class PredictedClassExplainer:
    """TreeSHAP contributions of one chosen class per row, for a LightGBM multiclass booster.

    Build it once per model; :meth:`explain` then costs one ``pred_contrib`` pass over the trees
    of each row's class instead of over every tree.
    """

    def __init__(self, booster: lgb.Booster) -> None:
        texts = split_model_by_class(booster.model_to_string())
        self.num_class = len(texts)
        self.class_boosters = [lgb.Booster(model_str=text) for text in texts]
        logger.debug("built %d single-class explainers", self.num_class)

    def explain(self, matrix: np.ndarray, classes: np.ndarray) -> ClassContributions:
        """Return the contributions of ``classes[i]`` for each row ``matrix[i]``.

        Rows are grouped by class, so a batch costs one LightGBM call per distinct class. A call
        on fewer than ``PARALLEL_ROWS`` rows runs on one thread; a larger one on every core.
        """
        rows, features = matrix.shape
        values = np.zeros((rows, features), dtype=np.float64)
        base = np.zeros(rows, dtype=np.float64)
        classes = np.asarray(classes, dtype=np.int64)

        for class_index in np.unique(classes):
            selected = np.flatnonzero(classes == class_index)
            booster = self.class_boosters[int(class_index)]
            output = booster.predict(matrix[selected], pred_contrib=True, num_threads=prediction_threads(len(selected)))
            output = np.asarray(output).reshape(len(selected), features + 1)
            values[selected] = output[:, :features]
            base[selected] = output[:, features]
        return ClassContributions(values=values, base=base)
