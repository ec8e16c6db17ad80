"""Registries of the ``mmssl_seg`` scope.

Our modules register into MMSeg's registries (configs run with
``default_scope='mmseg'``). A config inherited through ``mmssl_seg::`` gets
``_scope_='mmssl_seg'`` on every ``type`` (mmengine scopes external bases by
package), and mmengine then builds it from the registry of that scope, found
by importing this module. Each registry here is a child of MMSeg's (or
mmengine's, where MMSeg has none) holding nothing of its own, so a lookup
falls through to MMSeg's, where our modules are.
"""
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import Registry
from mmseg import registry as mmseg_registry


def _child(name: str) -> Registry:
    parent = getattr(mmseg_registry, name)
    # importing the package registers all our modules
    return Registry(parent.name, parent=parent, scope='mmssl_seg',
                    locations=['mmssl_seg'])


DATA_SAMPLERS = _child('DATA_SAMPLERS')
DATASETS = _child('DATASETS')
EVALUATOR = _child('EVALUATOR')
HOOKS = _child('HOOKS')
INFERENCERS = _child('INFERENCERS')
LOG_PROCESSORS = _child('LOG_PROCESSORS')
LOOPS = _child('LOOPS')
METRICS = _child('METRICS')
MODEL_WRAPPERS = _child('MODEL_WRAPPERS')
MODELS = _child('MODELS')
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS')
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS')
OPTIMIZERS = _child('OPTIMIZERS')
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS')
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS')
RUNNERS = _child('RUNNERS')
TASK_UTILS = _child('TASK_UTILS')
TRANSFORMS = _child('TRANSFORMS')
VISBACKENDS = _child('VISBACKENDS')
VISUALIZERS = _child('VISUALIZERS')
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS')
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS,
                     scope='mmssl_seg', locations=['mmssl_seg'])
