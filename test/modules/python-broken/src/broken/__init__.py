from .main import Broken as Broken
