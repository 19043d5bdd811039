"""Honest comparisons (issue 19): the best plain model per slice, the sulfide slices, the
chemical-system protocol without near-duplicates, and flagged rows scored on their own."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold

from nce.data.curation import anion_family
from nce.models.baselines import plain_models
from nce.pipelines.evaluate import (
    FLAGGED_SLICE,
    ablation_table,
    best_plain_table,
    cross_validate,
    evaluation_frame,
    multi_publication_comparison,
    summarize,
)
from nce.pipelines.protocols import NEAR_DUPLICATE_L1, groups_for, splits

ELEMENTS = ["Li", "Na", "P", "S", "O", "I", "Si"]


def _glass(**fractions) -> dict:
    row = dict.fromkeys(ELEMENTS, 0.0)
    row.update(fractions)
    assert abs(sum(row.values()) - 1.0) < 1e-12
    return row


def _systems_frame() -> pd.DataFrame:
    """Six chemical systems; the target glass is Li0.3P0.1S0.6 (system Li-P-S), with two glasses of
    another system (Li-I-P-S) at L1 0.01 and 0.05 from it."""
    rows = [
        _glass(Li=0.3, P=0.1, S=0.6),  # 0: the target glass
        _glass(Li=0.25, P=0.15, S=0.6),  # 1: same system, L1 0.1
        _glass(Li=0.3, P=0.1, S=0.595, I=0.005),  # 2: another system, L1 0.01 -> dropped
        _glass(Li=0.3, P=0.1, S=0.575, I=0.025),  # 3: same other system, L1 0.05 -> kept
        _glass(Li=0.2, P=0.1, S=0.5, I=0.2),  # 4: same other system, far
    ]
    rows += [_glass(Na=0.2 + 0.01 * k, Si=0.2, O=0.6 - 0.01 * k) for k in range(4)]  # Na-O-Si
    rows += [_glass(Li=0.2 + 0.01 * k, Si=0.2, O=0.6 - 0.01 * k) for k in range(4)]  # Li-O-Si
    rows += [_glass(Na=0.3 + 0.01 * k, P=0.1, S=0.6 - 0.01 * k) for k in range(3)]  # Na-P-S
    rows += [_glass(Li=0.3 + 0.01 * k, P=0.1, O=0.6 - 0.01 * k) for k in range(3)]  # Li-O-P
    frame = pd.DataFrame(rows)
    frame["KOD"] = [f"pub{k}" for k in range(len(frame))]
    frame["year"] = 2000
    return frame


def test_chemical_system_protocol_drops_training_glasses_near_a_test_glass():
    frame = _systems_frame()
    groups = groups_for(frame, "chemical_system")
    assert groups[0] == "Li-P-S" and groups[2] == groups[3] == groups[4] == "I-Li-P-S"
    l1 = np.abs(frame[ELEMENTS].to_numpy() - frame[ELEMENTS].to_numpy()[0]).sum(axis=1)
    np.testing.assert_allclose(l1[[2, 3]], [0.01, 0.05])
    assert l1[2] < NEAR_DUPLICATE_L1 < l1[3]
    folds = list(splits(frame, "chemical_system", n_splits=3))
    (train, test), *_ = [(tr, te) for tr, te in folds if 0 in te]
    assert not set(groups[train]) & set(groups[test])
    assert "I-Li-P-S" not in set(groups[test])  # the twin's system is trained on in this fold...
    assert 2 not in train  # ...but the near-twin is not
    assert 3 in train and 4 in train
    # only the near-twin is missing: every other row is in the train or the test part
    assert set(train) | set(test) == set(range(len(frame))) - {2}
    # in the folds where the target glass is trained on, the twin is tested and stays a test row
    for tr, te in folds:
        if 2 in te:
            assert 0 not in tr and set(tr) | set(te) == set(range(len(frame))) - {0}
    # the publication protocol keeps near-twins from other papers in training
    for tr, te in splits(frame, "publication", n_splits=3):
        if 0 in te:
            assert 2 in tr


def _flagged_frame() -> pd.DataFrame:
    frame = _systems_frame()
    frame["KOD"] = [f"pub{k % 6}" for k in range(len(frame))]
    frame["year"] = [1980 + 5 * (k % 6) for k in range(len(frame))]
    frame["suspect_fast_ion"] = False
    frame["disagrees_with_other_labs"] = False
    flagged = frame.iloc[[0, 5, 7]].assign(suspect_fast_ion=True)
    flagged.loc[flagged.index[1], ["suspect_fast_ion", "disagrees_with_other_labs"]] = [False, True]
    lone = frame.iloc[[9]].assign(KOD="pub-only-flagged", suspect_fast_ion=True)  # a paper with no curated rows
    return pd.concat([frame, flagged, lone], ignore_index=True)


def test_flagged_rows_are_tested_in_the_fold_of_their_group_and_never_trained_on():
    frame = _flagged_frame()
    flagged = frame["suspect_fast_ion"].to_numpy() | frame["disagrees_with_other_labs"].to_numpy()
    curated = np.flatnonzero(~flagged)
    groups = groups_for(frame, "publication")
    folds = list(splits(frame, "publication", n_splits=3, scored_only=flagged))
    # the curated rows keep exactly the folds they have without the flagged rows
    plain = [curated[te] for _, te in GroupKFold(3).split(curated, groups=groups[curated])]
    for (train, test), expected in zip(folds, plain):
        assert set(test[~flagged[test]]) == set(expected)
        assert not flagged[train].any()
        assert not set(groups[train]) & set(groups[test])
    # every flagged row is tested exactly once, with the curated rows of its publication
    tested = np.concatenate([te for _, te in folds])
    assert sorted(tested[flagged[tested]]) == list(np.flatnonzero(flagged))
    for row in np.flatnonzero(flagged):
        (fold,) = [k for k, (_, te) in enumerate(folds) if row in te]
        if groups[row] != "pub-only-flagged":
            assert set(groups[folds[fold][1]]) >= {groups[row]}
            assert (groups[curated] == groups[row]).any()
    # temporal: a flagged row is tested only with the newest publications, never trained on
    ((train, test),) = list(splits(frame, "temporal", scored_only=flagged))
    assert not flagged[train].any()
    year = frame["year"].to_numpy()
    assert year[test].min() > year[train].max()
    assert all((year[r] >= year[test].min()) == (r in test) for r in np.flatnonzero(flagged))


def _oof(frame: pd.DataFrame, errors: dict[str, np.ndarray], target: str = "log10_sigma25") -> pd.DataFrame:
    rows = np.arange(len(frame))
    y = frame[target].to_numpy()
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "protocol": "publication",
                    "target": target,
                    "model": model,
                    "row": rows,
                    "y": y,
                    "pred": y + err,
                    "lo": np.nan,
                    "hi": np.nan,
                }
            )
            for model, err in errors.items()
        ],
        ignore_index=True,
    )


def _slice_frame() -> pd.DataFrame:
    """Oxides, Li2SO4-type sulfate glasses, Li2S-P2S5, LiI-Li2S-P2S5 and Na2S-P2S5 glasses."""
    atoms = pd.DataFrame(
        [_glass(Li=0.2, Si=0.2, O=0.6)] * 4
        + [_glass(Li=0.3, P=0.1, S=0.1, O=0.5)] * 2  # Li2SO4-Li2O-P2O5: Li and S, but an oxide
        + [_glass(Li=0.35, P=0.1, S=0.55)] * 3  # Li2S-P2S5: a Li sulfide glass
        + [_glass(Li=0.35, P=0.1, S=0.45, I=0.1)] * 2  # LiI-Li2S-P2S5: mixed anions
        + [_glass(Na=0.35, P=0.1, S=0.55)] * 2  # Na2S-P2S5
    )
    frame = atoms.assign(
        anion_family=anion_family(atoms),
        mobile_ion=np.where(atoms["Na"] > 0, "Na", "Li"),
        sigma25_source="interpolated",
        log10_sigma25=-4.0,
        suspect_fast_ion=False,
        disagrees_with_other_labs=False,
    )
    return frame


def test_sulfide_slices_say_what_they_hold():
    frame = _slice_frame()
    assert list(frame["anion_family"].iloc[[0, 4, 6, 9, 11]]) == ["oxide", "mixed", "sulfide", "mixed", "sulfide"]
    oof = _oof(frame, {"mean": np.ones(len(frame))})
    n = summarize(oof, frame).set_index("slice")["n"]
    assert n["Li and S (any anion)"] == 2 + 3 + 2  # the sulfates are in the old "Li-S" slice
    assert n["sulfide glasses (no O)"] == 3 + 2
    assert n["Li and S, no O"] == 3 + 2  # Li2S-P2S5 and LiI-Li2S-P2S5
    assert n["Li sulfide glasses (no O)"] == 3
    assert "Li-S glasses" not in n


def test_best_plain_model_is_chosen_per_slice():
    frame = _slice_frame()
    n = len(frame)
    assert n == 13
    sulfide = ((frame["anion_family"] == "sulfide") & (frame["O"] == 0)).to_numpy()
    errors = {
        "mean": np.full(n, 3.0),
        "knn": np.where(sulfide, 0.5, 2.0),  # best plain model on sulfides only
        "random_forest": np.full(n, 1.0),  # best plain model overall
        "nce_sklearn_hgb": np.full(n, 0.1),  # not a plain model: never the baseline
        "nce_xgb": np.where(sulfide, 0.6, 0.8),
    }
    summary = summarize(_oof(frame, errors), frame).set_index(["slice", "model"])
    overall = summary.loc[("all", "nce_xgb")]
    assert summary.loc[("all", "knn"), "mae"] == pytest.approx((2.0 * 8 + 0.5 * 5) / 13)  # worse than the forest
    assert overall["best_plain"] == "random_forest" and overall["best_plain_mae"] == pytest.approx(1.0)
    assert overall["vs_best_plain"] == pytest.approx((0.6 * 5 + 0.8 * 8) / 13)
    on_sulfides = summary.loc[("sulfide glasses (no O)", "nce_xgb")]
    assert on_sulfides["best_plain"] == "knn" and on_sulfides["best_plain_mae"] == pytest.approx(0.5)
    assert on_sulfides["vs_best_plain"] == pytest.approx(1.2)  # NCE loses there
    assert summary.loc[("sulfide glasses (no O)", "knn"), "vs_best_plain"] == pytest.approx(1.0)
    table = best_plain_table(summary.reset_index())
    assert "| publication | log10_sigma25 | sulfide glasses (no O) | 5 | 0.600 | knn | 0.500 | 1.200 |" in table
    assert "| publication | log10_sigma25 | all | 13 | 0.723 | random_forest | 1.000 | 0.723 |" in table


def test_flagged_rows_appear_only_in_their_own_slice():
    frame = _slice_frame()
    frame.loc[[6, 7], "suspect_fast_ion"] = True  # two Li2S-P2S5 rows
    frame.loc[[0], "disagrees_with_other_labs"] = True  # an oxide
    flagged = np.zeros(len(frame), dtype=bool)
    flagged[[0, 6, 7]] = True
    errors = {"mean": np.where(flagged, 9.0, 1.0), "knn": np.where(flagged, 7.0, 0.5)}
    summary = summarize(_oof(frame, errors), frame).set_index(["slice", "model"])
    assert summary.loc[(FLAGGED_SLICE, "knn"), "n"] == 3 and summary.loc[(FLAGGED_SLICE, "knn"), "mae"] == 7.0
    assert summary.loc[("all", "knn"), "n"] == len(frame) - 3 and summary.loc[("all", "knn"), "mae"] == 0.5
    for name in ("sulfide glasses (no O)", "Li sulfide glasses (no O)", "mobile Li", "anion oxide"):
        assert summary.loc[(name, "mean"), "mae"] == 1.0  # no flagged row anywhere else
    assert summary.loc[("Li sulfide glasses (no O)", "mean"), "n"] == 1
    assert summary.loc[("flagged: sigma25 above 10^-1.5 S/cm", "mean"), "n"] == 2
    assert summary.loc[("flagged: > 2.5 decades from other labs", "mean"), "n"] == 1


def test_cross_validation_scores_the_flagged_rows_out_of_fold():
    """Real rows: the flagged ones are predicted in every grouped fold and reported apart."""
    frame, n_training = evaluation_frame(seed=0, max_rows=1200)
    flagged = frame["suspect_fast_ion"].eq(True).to_numpy() | frame["disagrees_with_other_labs"].eq(True).to_numpy()
    assert n_training == 1200 and not flagged[:n_training].any() and flagged[n_training:].all()
    assert flagged.sum() >= 10
    models = {"mean": plain_models()["mean"], "knn": plain_models()["knn"]}
    oof = cross_validate(frame, models, protocols=("publication", "chemical_system"))
    summary = summarize(oof, frame).set_index(["protocol", "target", "model", "slice"])
    for protocol in ("publication", "chemical_system"):
        n_sigma = int(np.isfinite(frame["log10_sigma25"].to_numpy()[flagged]).sum())
        assert summary.loc[(protocol, "log10_sigma25", "knn", FLAGGED_SLICE), "n"] == n_sigma
        n_all = int(np.isfinite(frame["log10_sigma25"].to_numpy()[:n_training]).sum())
        assert summary.loc[(protocol, "log10_sigma25", "knn", "all"), "n"] == n_all
    # the flagged rows are far harder than the curated ones for the mean (fast ions, outliers)
    assert (
        summary.loc[("publication", "log10_sigma25", "mean", FLAGGED_SLICE), "mae"]
        > summary.loc[("publication", "log10_sigma25", "mean", "all"), "mae"]
    )


def test_the_multi_lab_comparison_scores_every_model_on_the_same_pairs():
    """A composition measured by several publications gives one pair per publication; the
    floor is |value - the mean of the other publications'|. The two Na2S-P2S5 rows come from
    one publication: no pair."""
    frame = _slice_frame()
    frame["KOD"] = [f"p{i}" for i in range(len(frame))]
    frame.loc[[11, 12], "KOD"] = "p11"
    frame.loc[6, "log10_sigma25"] = -2.5  # Li2S-P2S5 by three labs: -2.5, -4, -4
    errors = {"knn": np.full(len(frame), 0.7), "nce_xgb": np.full(len(frame), -0.2)}
    out = multi_publication_comparison(_oof(frame, errors), frame, "log10_sigma25")
    assert out["n_pairs"] == 4 + 2 + 3 + 2  # oxide, sulfate, Li2S-P2S5, LiI-Li2S-P2S5
    assert out["noise_floor_mae"] == pytest.approx((1.5 + 0.75 + 0.75) / 11)
    assert out["model_mae"] == pytest.approx({"knn": 0.7, "nce_xgb": 0.2})


def test_the_ablation_table_says_what_the_physics_features_buy():
    summary = pd.DataFrame(
        {
            "protocol": ["publication"] * 4 + ["family"] * 2,
            "target": ["log10_sigma25", "log10_sigma25", "Ea_eV", "Ea_eV", "log10_sigma25", "log10_sigma25"],
            "model": ["nce_xgb_cqr", "nce_xgb_no_physics"] * 3,
            "slice": "all",
            "mae": [1.15, 1.18, 0.110, 0.112, 1.40, 1.38],
        }
    )
    table = ablation_table(summary)
    assert "| publication | log10_sigma25 | 1.150 | 1.180 | +0.030 |" in table
    assert "| family | log10_sigma25 | 1.400 | 1.380 | -0.020 |" in table  # they cost there
    assert len(table.splitlines()) == 2 + 3
