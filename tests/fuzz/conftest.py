from tests.e2e.conftest import stack  # noqa: F401 - the running services, shared with the e2e tests
