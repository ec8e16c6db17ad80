from .hierarchy import save_hierarchy_picture
from .panels import colorize, save_panel_grid

__all__ = ['colorize', 'save_hierarchy_picture', 'save_panel_grid']
