import lightning as L


class ConstantSchedule:
    """One stage: the data module, optimizer and LR scheduler run as configured for the whole fit."""

    def callbacks(self) -> list[L.Callback]:
        return []

    def trainer_arguments(self) -> dict:
        return {}

    def task_arguments(self) -> dict:
        return {}
