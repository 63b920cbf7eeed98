"""Acceptance module written for the official Python SDK"""

from .main import Pyacc as Pyacc
