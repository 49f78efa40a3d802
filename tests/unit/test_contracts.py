"""The model × task × data families and the component contracts, checked without building a run."""

import pytest

from genlab.config.families import FAMILIES, check_pairing, compatibility_table
from genlab.core.protocols import ImageGenerator, Schedule, ShapedData, Tuning, missing_members, require
from genlab.errors import ConfigError
from genlab.schedules.constant import ConstantSchedule
from genlab.tuning import FullTuning, LoRA


def test_each_task_has_one_family():
    """A model may serve several (ffn, rnn and transformer classify and forecast); a task is one family."""
    tasks = [f.task for f in FAMILIES]
    assert len(tasks) == len(set(tasks))


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.task)
def test_every_pair_in_a_family_passes(family):
    if not family.data:  # prompt-only families take any data config: it is not read
        for model in family.models:
            check_pairing({"model": model, "task": family.task})
    for model, data in family.pairs():
        check_pairing({"model": model, "task": family.task, "data": data})
    for model, data in family.excluded:
        with pytest.raises(ConfigError, match=f"^model={model} does not take data={data}: use model="):
            check_pairing({"model": model, "task": family.task, "data": data})


def test_pairs_across_families_name_the_valid_partners():
    with pytest.raises(
        ConfigError,
        match=r"^model=hf_causal does not go with task=classification: task=classification takes model=ffn\|cnn\|rnn\|transformer; model=hf_causal needs task=language_modeling or experiment=chat_sft or experiment=preference$",
    ):
        check_pairing({"model": "hf_causal", "task": "classification", "data": "digits"})
    with pytest.raises(
        ConfigError,
        match=r"^model=cnn does not go with task=diffusion: task=diffusion takes model=diffusion; model=cnn needs task=classification$",
    ):
        check_pairing({"model": "cnn", "task": "diffusion", "data": "digits"})
    with pytest.raises(
        ConfigError,
        match=r"^data=spoken_digits does not go with task=diffusion \(model=diffusion\): it takes data=fashion_mnist\|digits\|cifar10\|image_folder\|hf_images$",
    ):
        check_pairing({"model": "diffusion", "task": "diffusion", "data": "spoken_digits"})


def test_options_of_your_own_are_not_judged():
    check_pairing({"model": "my_net", "task": "classification", "data": "digits"})
    check_pairing({"model": "cnn", "task": "classification", "data": "my_table"})
    check_pairing({"model": "cnn", "task": "my_task", "data": "fortunes"})


def test_the_table_lists_every_family():
    table = compatibility_table()
    assert all(f.task in table for f in FAMILIES) and "[experiment=diffusion]" in table


def test_genlab_components_meet_their_contracts():
    assert isinstance(ConstantSchedule(), Schedule)
    assert isinstance(FullTuning(), Tuning) and isinstance(LoRA(), Tuning)
    assert missing_members(ConstantSchedule(), Schedule) == []


def test_a_missing_member_is_one_line_naming_it():
    class HalfSchedule:
        def callbacks(self):
            return []

    with pytest.raises(
        ConfigError, match=r"^schedule: HalfSchedule does not provide task_arguments, trainer_arguments \(Schedule\)$"
    ):
        require(HalfSchedule(), Schedule, "schedule")
    with pytest.raises(
        ConfigError,
        match=r"^task: object does not provide generate, num_classes, takes_text, which generation=image needs$",
    ):
        require(object(), ImageGenerator, "task", "generation=image")


def test_data_contracts_read_attributes_not_types():
    class Table:
        input_shape = (4,)
        num_classes = 3

    assert isinstance(Table(), ShapedData) and not isinstance(object(), ShapedData)
