import six
from dagger import function, object_type


@object_type
class Pydeps:
    @function
    def six_version(self) -> str:
        """The version of a third-party package from pyproject.toml"""
        return f"six {six.__version__}"
