r"""Interactive explorers for the notebooks (ipywidgets), one module per explorer.

Each explorer is a thin widget shell around plain *state* and *draw* functions that
are unit-tested without a browser; see :mod:`gdcourse.widgets.lr_explorer` for the
pattern, and for how to show an explorer so that strict nbval sees a deterministic
output (make it the last expression of its cell).
"""

from gdcourse.widgets.batch import (
    BatchExplorer,
    BatchState,
    batch_explorer,
    batch_explorer_state,
    draw_batch_explorer,
)
from gdcourse.widgets.boundary import (
    BoundaryExplorer,
    BoundaryState,
    boundary_explorer,
    boundary_explorer_state,
    boundary_step_status,
    draw_boundary_explorer,
)
from gdcourse.widgets.init_explorer import (
    InitExplorer,
    InitState,
    LayerSignals,
    deep_network,
    draw_init_explorer,
    init_explorer,
    init_explorer_state,
    layer_signals,
    scaled_init,
)
from gdcourse.widgets.lr_explorer import (
    ExplorerState,
    LRExplorer,
    draw_lr_explorer,
    figure_output,
    lr_explorer,
    lr_explorer_state,
)
from gdcourse.widgets.momentum import (
    MomentumExplorer,
    MomentumState,
    draw_momentum_explorer,
    momentum_explorer,
    momentum_explorer_state,
)
from gdcourse.widgets.precision import (
    PrecisionExplorer,
    PrecisionState,
    draw_precision_explorer,
    precision_explorer,
    precision_explorer_state,
)
from gdcourse.widgets.race import Race, RaceState, draw_race, race, race_state
from gdcourse.widgets.regularization import (
    RegularisationExplorer,
    RegularisationState,
    draw_regularisation_explorer,
    regularisation_explorer,
    regularisation_explorer_state,
)
from gdcourse.widgets.scaling import (
    LinearMSE,
    ScalingExplorer,
    ScalingState,
    draw_scaling_explorer,
    scaling_data,
    scaling_explorer,
    scaling_explorer_state,
)

__all__ = [
    "BatchExplorer",
    "BatchState",
    "BoundaryExplorer",
    "BoundaryState",
    "ExplorerState",
    "InitExplorer",
    "InitState",
    "LRExplorer",
    "LayerSignals",
    "LinearMSE",
    "MomentumExplorer",
    "MomentumState",
    "PrecisionExplorer",
    "PrecisionState",
    "Race",
    "RaceState",
    "RegularisationExplorer",
    "RegularisationState",
    "ScalingExplorer",
    "ScalingState",
    "batch_explorer",
    "batch_explorer_state",
    "boundary_explorer",
    "boundary_explorer_state",
    "boundary_step_status",
    "deep_network",
    "draw_batch_explorer",
    "draw_boundary_explorer",
    "draw_init_explorer",
    "draw_lr_explorer",
    "draw_momentum_explorer",
    "draw_precision_explorer",
    "draw_race",
    "draw_regularisation_explorer",
    "draw_scaling_explorer",
    "figure_output",
    "init_explorer",
    "init_explorer_state",
    "layer_signals",
    "lr_explorer",
    "lr_explorer_state",
    "momentum_explorer",
    "momentum_explorer_state",
    "precision_explorer",
    "precision_explorer_state",
    "race",
    "race_state",
    "regularisation_explorer",
    "regularisation_explorer_state",
    "scaled_init",
    "scaling_data",
    "scaling_explorer",
    "scaling_explorer_state",
]
