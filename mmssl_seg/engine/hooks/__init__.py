from .momentum_update_hook import MomentumUpdateHook

__all__ = ['MomentumUpdateHook']
