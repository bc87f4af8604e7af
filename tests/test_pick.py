"""With no model=, the fit picks the family that uses the case's tables (then the fewest
parameters), says why, and plans the same run as naming that family by hand."""

from cargoinfer.experiments import run
from cargoinfer.experiments.config import compose
from cargoinfer.models import registry

ALL = {"voyages", "imagery", "containers", "depot", "claims"}


def test_pick_uses_every_table_with_the_fewest_parameters():
    assert registry.pick(ALL)[0] == "joint"  # dynamic uses the same tables with more parameters
    assert registry.pick({"voyages", "imagery", "containers"})[0] == "voyages"
    assert registry.pick({"voyages"})[0] == "voyages"
    assert registry.pick({"voyages", "imagery", "claims"})[0] == "joint"
    families = registry.families()
    for present in (ALL, {"voyages", "depot"}, {"voyages", "imagery"}):
        name, why = registry.pick(present)
        used = registry.tables_used(families[name])
        assert used >= present and why.startswith(f"{name} (")
        # no sampled family that uses every table has fewer parameters
        assert all(len(f.PARAMS) >= len(families[name].PARAMS) for f in families.values()
                   if hasattr(f, "build") and getattr(f, "AUTO", True)
                   and registry.tables_used(f) >= present)


def test_the_default_case_picks_joint_and_says_why(tmp_path):
    cfg = compose([f"store={tmp_path}"])
    assert cfg.model.name == "joint" and cfg.model.version == registry.get("joint").VERSION
    assert "every table the case has" in cfg.model.picked
    assert "voyages (9 parameters) leaves out claims, depot" in cfg.model.picked
    by_hand = compose([f"store={tmp_path}", "model=joint"])
    assert by_hand.model.picked is None
    # the same run: how the family was chosen is not part of its identity
    assert run.plan(cfg)[2] == run.plan(by_hand)[2]
    _, family, run_dir, h = run.plan(cfg)
    record = run.identity_record(cfg, run.plan(cfg)[0], family, run_dir, h)
    assert record["model"]["picked"] == cfg.model.picked


def test_a_case_without_depot_or_claims_picks_voyages(tmp_path, case_copy):
    (case_copy / "depot.csv").unlink()
    (case_copy / "claims.csv").unlink()
    cfg = compose([f"store={tmp_path}", f"case.path={case_copy}"])
    assert cfg.model.name == "voyages" and "imagery" in cfg.model.picked
    # a backtest's cut-offs keep the whole case's family
    cut = compose([f"store={tmp_path}", "case.cutoff=2023-08-20"])
    assert cut.model.name == "joint"
