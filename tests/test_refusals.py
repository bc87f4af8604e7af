"""A misspelt name is refused with exit 2, one line naming the known names and the closest
match, and nothing written."""

import pytest

from cargoinfer.experiments.cli import main

FAMILIES = "baseline, dynamic, joint, network, voyages"
MODELS = f"auto, {FAMILIES}"  # model=auto: the family that uses the case's tables
EXPERIMENTS = "cutoff_backtest, detection_sensitivity, model_ladder, prior_sweep"
LAUNCHERS = "joblib, ray, serial, submitit_local, submitit_slurm"

CASES = [
    (["fit", "model=jiont"],
     f"cargoinfer fit: config refused: no model named 'jiont'; the models are {MODELS}; "
     "did you mean 'joint'?"),
    (["fit", "model=xyzzy"],
     f"cargoinfer fit: config refused: no model named 'xyzzy'; the models are {MODELS}"),
    (["fit", "case=rajin"],
     "cargoinfer fit: config refused: no case named 'rajin'; the cases are rajin_dunai_2023; "
     "did you mean 'rajin_dunai_2023'?"),
    (["fit", "inference=nutpi"],
     "cargoinfer fit: config refused: no inference named 'nutpi'; the inferences are nutpie; "
     "did you mean 'nutpie'?"),
    (["calibrate", "model=voyage"],
     f"cargoinfer calibrate: config refused: no model named 'voyage'; the models are {MODELS}; "
     "did you mean 'voyages'?"),
    (["sweep", "experiment=model_ladr"],
     "cargoinfer sweep: config refused: no experiment named 'model_ladr'; the experiments are "
     f"{EXPERIMENTS}; did you mean 'model_ladder'?"),
    (["sweep", "hydra/launcher=jobib"],
     f"cargoinfer sweep: config refused: no launcher named 'jobib'; the launchers are {LAUNCHERS}; "
     "did you mean 'joblib'?"),
    (["sweep", "hydra/launcher=slurm"],
     f"cargoinfer sweep: config refused: no launcher named 'slurm'; the launchers are {LAUNCHERS}; "
     "did you mean 'submitit_slurm'?"),
    (["warm", "voyagez"],
     f"cargoinfer warm: unknown model 'voyagez' (known: {FAMILIES}); did you mean 'voyages'?"),
    (["simulate", "scenario=paus", "out=OUT"],
     "cargoinfer simulate: unknown scenario 'paus' (known: steady, pause, load_change, "
     "vessel_joins, network); did you mean 'pause'?"),
    (["simulate", "model=jiont", "out=OUT"],
     "cargoinfer simulate: model 'jiont' is unknown (known: dynamic, joint, network, voyages); "
     "did you mean 'joint'?"),
]


@pytest.mark.parametrize("args,line", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_misspelt_name_names_the_known_ones(args, line, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [a.replace("OUT", str(tmp_path / "out")) for a in args]
    assert main([*args, f"store={tmp_path / 'runs'}"] if args[0] in ("fit", "sweep", "calibrate")
                else args) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == line, err
    assert not any(tmp_path.iterdir()), "nothing written"


def test_a_misspelt_command_names_the_closest(capsys):
    assert main(["fitt"]) == 2
    assert capsys.readouterr().err.startswith("cargoinfer: unknown command 'fitt'; did you mean 'fit'?\n")
