"""`affectlab schema DATASET [--set emotic|mosei|fiv2|FILE.json] [--json]`: show or set a label schema."""
from __future__ import annotations

import json

from core.label_schema import LabelSchema, TargetSpec, emotic_schema, fiv2_schema


def test_set_a_builtin_schema_then_show_it(cli, env):
    rc, out, err = cli("schema", "emo", "--set", "emotic", "--json")
    assert (rc, err) == (0, "") and out["created"] and out["changed"]
    assert out["schema"] == emotic_schema().to_dict()
    rc, out, _ = cli("schema", "emo", "--json")
    assert rc == 0 and out["stored"] and out["schema"]["emotion_mode"] == "multi"
    rc, out, _ = cli("schema", "emo")  # text output: no JSON object
    assert (rc, out) == (0, None)


def test_text_output_names_mode_classes_and_targets(env, capsys):
    from cli.app import main

    assert main(["schema", "traits", "--set", "fiv2"]) == 0
    shown = capsys.readouterr().out
    assert "emotion mode distribution over 6 classes (mosei6)" in shown
    assert "openness [0, 1]" in shown and "schema changed" in shown


def test_set_from_a_json_file_and_refusals(cli, env):
    custom = LabelSchema(classes=("calm", "tense"), targets=(TargetSpec("pain", 0, 10),))
    path = env / "s.json"
    path.write_text(json.dumps(custom.to_dict()))
    rc, out, _ = cli("schema", "c", "--set", path, "--json")
    assert rc == 0 and LabelSchema.from_dict(out["schema"]) == custom
    rc, out, _ = cli("schema", "c", "--set", path, "--json")
    assert rc == 0 and not out["changed"] and not out["created"]
    rc, out, err = cli("schema", "c", "--set", "nonsense", "--json")
    assert rc == 1 and "neither emotic, mosei, fiv2, mafw, mafw-multi nor a JSON file" in err and out["ok"] is False
    (env / "bad.json").write_text("[1, 2]")
    rc, _, err = cli("schema", "c", "--set", env / "bad.json")
    assert rc == 1 and "bad.json: not a label schema" in err
    rc, _, err = cli("schema", "missing")
    assert rc == 1 and "no dataset named 'missing'" in err


def test_a_schema_that_orphans_labels_is_refused(cli, env, write):
    from tests.store.seed import seed_rich

    with write() as s, s.begin():
        seed_rich(s, fiv2_schema(), 3, dataset="t")
    rc, _, err = cli("schema", "t", "--set", "emotic")
    assert rc == 1 and "would orphan stored labels" in err and "not declared" in err
    rc, out, _ = cli("schema", "t", "--json")
    assert out["schema"] == fiv2_schema().to_dict()
