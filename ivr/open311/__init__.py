"""Open311 GeoReport v2: the city's other channels (apps, websites, partners) on the phone's case store."""

from .routes import bp

__all__ = ["bp"]
