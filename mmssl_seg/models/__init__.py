from . import (  # noqa: F401
    algorithms,
    backbones,
    data_preprocessors,
    heads,
    losses,
    necks,
)
