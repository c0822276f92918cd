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

import ctypes
import logging
import re
import threading
from typing import Any

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB, _c_str, _safe_call

__all__ = [
    "PARALLEL_ROWS",
    "PREDICT_CONTRIB",
    "PREDICT_RAW_SCORE",
    "ClassContributions",
    "PredictedClassExplainer",
    "SingleRowPredictor",
    "prediction_threads",
    "single_row_ready",
    "split_model_by_class",
]

logger = logging.getLogger(__name__)

# Below this many rows LightGBM predicts on one thread, because starting its OpenMP threads costs
# more than they save. From here on it uses every core (num_threads=0): on a 2-core machine that
# halved LightGBM's time on 8 to 1,000 rows of the default bundle (measured 2026-12-04).
PARALLEL_ROWS = 16

# LightGBM's C API names for what a prediction returns (C_API_PREDICT_* in c_api.h).
PREDICT_RAW_SCORE = 1
PREDICT_CONTRIB = 3
_FLOAT64 = 1  # C_API_DTYPE_FLOAT64
_FLOAT_TYPES = (np.dtype(np.float64), np.dtype(np.float32))

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


def single_row_ready(matrix: np.ndarray, num_features: int) -> bool:
    """Tell whether the single-row API gives what ``Booster.predict`` gives for rows of ``matrix``.

    It reads float64 values. ``Booster.predict`` reads float32 and float64 matrices as they are
    (float32 values widen to float64 exactly) but other types as float32, and it reports a wrong
    number of features in its own words, so those matrices keep going through it.
    """
    return matrix.ndim == 2 and matrix.shape[1] == num_features and matrix.dtype in _FLOAT_TYPES


class _FastConfig:
    """One thread's handle on LightGBM's single-row predictor, with its input and output buffers.

    The handle points into the booster, so it keeps the booster alive and is freed first.
    """

    def __init__(self, booster: lgb.Booster, predict_type: int, num_iteration: int, outputs: int) -> None:
        self.booster = booster
        self.handle: ctypes.c_void_p | None = None
        features = booster.num_feature()
        handle = ctypes.c_void_p()
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(predict_type), ctypes.c_int(0), ctypes.c_int(num_iteration),
            ctypes.c_int(_FLOAT64), ctypes.c_int32(features), _c_str("num_threads=1"), ctypes.byref(handle),
        ))
        self.handle = handle
        # The pointers are made once, because building them costs more than copying a row into the buffer.
        self.row = np.empty(features, dtype=np.float64)
        self.out = np.empty(outputs, dtype=np.float64)
        self.length = ctypes.c_int64(0)
        self._row_pointer = self.row.ctypes.data_as(ctypes.c_void_p)
        self._out_pointer = self.out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._length_pointer = ctypes.byref(self.length)

    def predict(self, row: np.ndarray) -> np.ndarray:
        self.row[:] = row
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFast(
            self.handle, self._row_pointer, self._length_pointer, self._out_pointer,
        ))
        return self.out.copy()

    def __del__(self) -> None:
        # At interpreter exit the library may be gone already; the process frees everything then.
        handle, self.handle = self.handle, None
        if handle is not None and _LIB is not None:
            _LIB.LGBM_FastConfigFree(handle)


class SingleRowPredictor:
    """Raw scores or contributions of one row through LightGBM's single-row C API.

    ``Booster.predict`` spends about 40 us in Python around each call (an inner predictor, the
    parameters as a string, array checks). That is more than predicting one row of raw scores
    costs: 59 us against 23 us with LightGBM 4.7 on a 2-core machine. The single-row API
    parses the parameters once into a handle. LightGBM 4.x locks the booster for each single-row
    prediction, but the handle's buffers are not shared: each thread gets its own handle (the API's
    background jobs predict beside the request threads), freed when the thread ends or when the
    predictor is dropped. The values equal ``Booster.predict`` on a one-row matrix.
    """

    def __init__(self, booster: lgb.Booster, predict_type: int) -> None:
        if predict_type not in (PREDICT_RAW_SCORE, PREDICT_CONTRIB):
            raise ValueError(f"predict_type must be PREDICT_RAW_SCORE (1) or PREDICT_CONTRIB (3), got {predict_type!r}")
        self.booster = booster
        self.predict_type = predict_type
        self.num_features = booster.num_feature()
        classes = booster.num_model_per_iteration()
        self.outputs = classes * (self.num_features + 1) if predict_type == PREDICT_CONTRIB else classes
        # Booster.predict (LightGBM 4.7) predicts with the best iteration when the booster has one.
        self.num_iteration = booster.best_iteration
        self._local = threading.local()

    def predict(self, row: np.ndarray) -> np.ndarray:
        """Return the outputs of one row of ``num_features`` values, as a new 1-D array.

        Raw scores have one value per class; contributions one per feature, then the base value
        (per class, one block after the other).
        """
        if row.shape != (self.num_features,):
            raise ValueError(
                f"a single-row prediction needs {self.num_features} feature values, got an array of shape {row.shape}"
            )
        config: Any = getattr(self._local, "config", None)
        if config is None:
            config = self._local.config = _FastConfig(self.booster, self.predict_type, self.num_iteration, self.outputs)
        return config.predict(row)

    def __getstate__(self) -> dict[str, Any]:
        # Handles belong to this process's threads; a copy or an unpickled predictor makes its own.
        state = self.__dict__.copy()
        del state["_local"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()


class PredictedClassExplainer:
    """TreeSHAP contributions of one chosen class per row, for a LightGBM multiclass booster.

    Build it once per model; :meth:`explain` then costs one ``pred_contrib`` pass over the trees
    of each row's class instead of over every tree.
    """

    def __init__(self, booster: lgb.Booster) -> None:
        texts = split_model_by_class(booster.model_to_string())
        self.num_class = len(texts)
        self.class_boosters = [lgb.Booster(model_str=text) for text in texts]
        self.row_predictors = [SingleRowPredictor(booster, PREDICT_CONTRIB) for booster in self.class_boosters]
        logger.debug("built %d single-class explainers", self.num_class)

    def explain(self, matrix: np.ndarray, classes: np.ndarray) -> ClassContributions:
        """Return the contributions of ``classes[i]`` for each row ``matrix[i]``.

        Rows are grouped by class, so a batch costs one LightGBM call per distinct class. A call
        on fewer than ``PARALLEL_ROWS`` rows runs on one thread; a larger one on every core. A class
        with one row goes through LightGBM's single-row API, which gives the same values sooner.
        """
        rows, features = matrix.shape
        classes = np.asarray(classes, dtype=np.int64)
        single_rows = single_row_ready(matrix, self.row_predictors[0].num_features)
        if rows == 1 and single_rows:
            output = self.explain_row(matrix[0], int(classes[0]))
            return ClassContributions(values=output[np.newaxis, :features], base=output[features:])
        values = np.zeros((rows, features), dtype=np.float64)
        base = np.zeros(rows, dtype=np.float64)

        for class_index in np.unique(classes):
            selected = np.flatnonzero(classes == class_index)
            if len(selected) == 1 and single_rows:
                output = self.explain_row(matrix[selected[0]], int(class_index))[np.newaxis]
            else:
                booster = self.class_boosters[int(class_index)]
                output = booster.predict(
                    matrix[selected], pred_contrib=True, num_threads=prediction_threads(len(selected))
                )
                output = np.asarray(output).reshape(len(selected), features + 1)
            values[selected] = output[:, :features]
            base[selected] = output[:, features]
        return ClassContributions(values=values, base=base)

    def explain_row(self, row: np.ndarray, class_index: int) -> np.ndarray:
        """Return one row's contributions to ``class_index``, then the base value: ``features + 1`` values."""
        return self.row_predictors[class_index].predict(np.asarray(row, dtype=np.float64))
