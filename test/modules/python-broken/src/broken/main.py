from dagger import function, object_type


@object_type
class Broken:
    @function
    def oops(self) -> str:
        n = (1 +
        return str(n)
