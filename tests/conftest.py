"""The test stack: real Kafka, PostgreSQL and mail sink on the test ports (see devstack.config),
started once per session by the project's own scripts and stopped at the end."""

from __future__ import annotations

import os
import shutil

import pytest

from devstack import stack as devstack
from devstack.config import StackConfig


@pytest.fixture(scope="session")
def stack() -> StackConfig:
    config = StackConfig.test()
    if os.environ.get("WSE_TEST_REUSE_STACK") != "1":
        devstack.down(config)  # whatever an interrupted run left behind
        shutil.rmtree(config.state_dir, ignore_errors=True)
    devstack.start_infrastructure(config)
    yield config
    if os.environ.get("WSE_TEST_REUSE_STACK") != "1":
        devstack.down(config)
