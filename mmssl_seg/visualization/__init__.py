from .panels import colorize, save_panel_grid

__all__ = ['colorize', 'save_panel_grid']
