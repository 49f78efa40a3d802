"""A user's own task that takes a credential for some service: the test of secret redaction names it as task."""

import hashlib
import os
from pathlib import Path
from typing import Any

from genlab.tasks import Classification


class ClassificationWithService(Classification):
    """Keeps the credential it is given among its hyperparameters, as a careless user task would, and writes its
    sha256 to $GENLAB_TEST_RECEIVED, outside the run folder, so a test can tell it got the real value."""

    def __init__(self, *args: Any, service_api_key: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler"], logger=False)
        Path(os.environ["GENLAB_TEST_RECEIVED"]).write_text(hashlib.sha256(service_api_key.encode()).hexdigest())
