"""Learner answers to notebook 11's experiment exercise, 11.spot_the_bug (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "11.spot_the_bug"
wrong(
    E,
    "diagnose-mapped",
    "renames the fields for gdcourse.monitoring.diagnose and maps its kinds to the names",
    """
    from gdcourse.monitoring import diagnose

    def spot_the_bug(history):
        record = {"step_loss": history["loss"], "train_loss": history["loss"], "val_loss": history["val_loss"],
                  "grad_norm": history["grad_norm"], "layer_grad_norm": {"first": history["first_layer_grad_norm"]},
                  "update_ratio": {"all": history["update_ratio"]}}
        names = {"divergence": "lr_too_large", "plateau": "lr_too_small", "dead_relu": "dead_relu",
                 "nan": "nan_in_data", "overfitting": "overfitting", "healthy": "overfitting"}
        return names[diagnose(record).kind]
""",
    ("underflow",),
)
wrong(
    E,
    "zero-gradient-checked-first",
    "a zero first-layer gradient anywhere means dead ReLUs, loss unread",
    """
    def spot_the_bug(history):
        loss = np.array(history["loss"])
        if 0.0 in history["first_layer_grad_norm"]:
            return "dead_relu"
        if not np.isfinite(loss).all():
            before = loss[: np.argmax(~np.isfinite(loss))]
            return "lr_too_large" if before.max() > 10 * before[0] else "nan_in_data"
        if loss.max() > 10 * loss[0]:
            return "lr_too_large"
        val = np.array(history["val_loss"])
        return "overfitting" if val[-1] > 1.15 * val.min() else "lr_too_small"
""",
    ("output layer",),
)
wrong(
    E,
    "nan-in-any-field",
    "looks for NaN in every list, but update_ratio is NaN where it is undefined",
    """
    def spot_the_bug(history):
        arrays = {name: np.array(values) for name, values in history.items()}
        loss = arrays["loss"]
        if any(np.isnan(a).any() for a in arrays.values()):
            finite = loss[np.isfinite(loss)]
            return "lr_too_large" if finite.max() > 10 * finite[0] else "nan_in_data"
        if loss.max() > 10 * loss[0]:
            return "lr_too_large"
        if arrays["grad_norm"][-1] == 0:
            return "float16_underflow"
        if arrays["first_layer_grad_norm"][-1] == 0:
            return "dead_relu"
        val = arrays["val_loss"]
        return "overfitting" if val[-1] > 1.15 * val.min() else "lr_too_small"
""",
    ("finite",),
)
wrong(
    E,
    "big-fall-is-overfitting",
    "a loss that fell tenfold means overfitting, before the gradients are read",
    """
    def spot_the_bug(history):
        loss = np.array(history["loss"])
        if not np.isfinite(loss).all():
            before = loss[: np.argmax(~np.isfinite(loss))]
            return "lr_too_large" if before.max() > 10 * before[0] else "nan_in_data"
        if loss.max() > 10 * loss[0]:
            return "lr_too_large"
        if loss[-1] < 0.1 * loss[0]:
            return "overfitting"
        if history["first_layer_grad_norm"][-1] == 0:
            return "dead_relu"
        return "lr_too_small"
""",
    ("validation",),
)
wrong(
    E,
    "returns-the-description",
    "returns the description from the table instead of its name",
    """
    def spot_the_bug(history):
        loss = np.array(history["loss"])
        if not np.isfinite(loss).all():
            before = loss[: np.argmax(~np.isfinite(loss))]
            return "learning rate too large" if before.max() > 10 * before[0] else "NaN in the data"
        if loss.max() > 10 * loss[0]:
            return "learning rate too large"
        if history["grad_norm"][-1] == 0:
            return "float16 underflow"
        if history["first_layer_grad_norm"][-1] == 0:
            return "dead ReLUs"
        val = np.array(history["val_loss"])
        return "overfitting" if val[-1] > 1.15 * val.min() else "learning rate too small"
""",
    ("not one of",),
)
wrong(
    E,
    "returns-an-index",
    "returns the position of the fault in the table, not its name",
    """
    def spot_the_bug(history):
        loss = np.array(history["loss"])
        if not np.isfinite(loss).all():
            before = loss[: np.argmax(~np.isfinite(loss))]
            return 0 if before.max() > 10 * before[0] else 3
        if loss.max() > 10 * loss[0]:
            return 0
        if history["grad_norm"][-1] == 0:
            return 5
        if history["first_layer_grad_norm"][-1] == 0:
            return 2
        val = np.array(history["val_loss"])
        return 4 if val[-1] > 1.15 * val.min() else 1
""",
    ("string",),
)

right(
    E,
    "tolerances-and-own-thresholds",
    "other thresholds, a tolerance for zero, overfitting tested first",
    """
    def spot_the_bug(history):
        loss = np.asarray(history["loss"], dtype=float)
        val = np.asarray(history["val_loss"], dtype=float)
        finite = np.isfinite(loss)
        grew = np.nanmax(np.where(finite, loss, np.nan)) > 100 * loss[0]
        if not finite.all():
            return "lr_too_large" if grew else "nan_in_data"
        if grew:
            return "lr_too_large"
        lowest = int(np.argmin(val))
        if lowest < 0.8 * len(val) and val[-1] > 1.2 * val[lowest] and loss[-1] < loss[lowest]:
            return "overfitting"
        if abs(history["grad_norm"][-1]) < 1e-12:
            return "float16_underflow"
        if abs(history["first_layer_grad_norm"][-1]) < 1e-12:
            return "dead_relu"
        return "lr_too_small"
""",
)
right(
    E,
    "plain-python-upper-case",
    "loops over the lists with math, returns the names in upper case",
    """
    def spot_the_bug(history):
        loss = history["loss"]
        for step, value in enumerate(loss):
            if not math.isfinite(value):
                return "LR_TOO_LARGE" if max(loss[:step]) > 10 * loss[0] else "NAN_IN_DATA"
        if max(loss) > 10 * loss[0]:
            return "LR_TOO_LARGE"
        if history["grad_norm"][-1] == 0.0:
            return "FLOAT16_UNDERFLOW"
        if history["first_layer_grad_norm"][-1] == 0.0:
            return "DEAD_RELU"
        val = history["val_loss"]
        return "OVERFITTING" if val[-1] > 1.15 * min(val) else "LR_TOO_SMALL"
""",
)
right(
    E,
    "diagnose-with-own-rules",
    "diagnose for what it knows, own rules for underflow and for a NaN",
    """
    from gdcourse.monitoring import diagnose

    def spot_the_bug(history):
        loss = np.array(history["loss"])
        if not np.isfinite(loss).all():  # diagnose reads noisy minibatch losses as growth: decide here
            before = loss[: np.argmax(~np.isfinite(loss))]
            return "lr_too_large" if before.max() > 10 * before[0] else "nan_in_data"
        if history["grad_norm"][-1] == 0:  # diagnose has no rule for underflow
            return "float16_underflow"
        record = {"train_loss": history["loss"], "val_loss": history["val_loss"], "grad_norm": history["grad_norm"],
                  "layer_grad_norm": {"first": history["first_layer_grad_norm"]},
                  "update_ratio": {"all": history["update_ratio"]}}
        names = {"divergence": "lr_too_large", "plateau": "lr_too_small", "dead_relu": "dead-relu",
                 "overfitting": "overfitting"}
        return names[diagnose(record).kind]
""",
)

del E
