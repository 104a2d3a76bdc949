"""Labels are checked up front: length and characters, one line naming the rule."""

import pytest
from sweep_fixtures import synthetic_table

import nas_harness.sweep
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.cli import main
from nas_harness.experiment import MAX_LABEL_LENGTH, AlgorithmSpec, check_label
from nas_harness.experiment_file import load_experiment


def test_the_longest_label_is_accepted_and_one_more_character_is_not():
    assert MAX_LABEL_LENGTH == 64
    assert check_label("a" * 64) == "a" * 64
    with pytest.raises(ProtocolError) as exc:
        check_label("a" * 65)
    assert str(exc.value) == (
        "the label 'aaaaaaaaaaaaaaaaaaaa'... is 65 characters long: a label has at most 64 (it "
        "names the results directory); shorten it, e.g. --label evolution-p20")


def test_a_300_character_label_fails_before_any_work_in_one_line(tmp_path, capsys, monkeypatch):
    loaded = []
    monkeypatch.setattr(nas_harness.sweep, "default_table",
                        lambda: loaded.append(1) or synthetic_table())
    code = main(["run", "-a", "random", "-d", "cifar10", "--runs", "1", "--budget", "5",
                 "--label", "x" * 300, "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1 and not loaded and not (tmp_path / "runs").exists()
    assert err[0].startswith("nas-harness: error: the label 'xxxxxxxxxxxxxxxxxxxx'... is 300 "
                             "characters long: a label has at most 64")


@pytest.mark.parametrize(("label", "why"), [("a b", "has characters a label may not have"),
                                            ("é", "has characters a label may not have"),
                                            ("../x", "is a path"), ("-x", "has characters"),
                                            (".hidden", "has characters")])
def test_characters_are_checked_with_the_rule_named(label, why):
    with pytest.raises(ProtocolError) as exc:
        AlgorithmSpec("random", label=label)
    assert why in str(exc.value) and "letters, digits and _ . : + = , @ -" in str(exc.value)


def test_an_experiment_files_label_is_checked_when_the_file_is_read(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(f'output = "runs"\n[[algorithms]]\nname = "random"\nlabel = "{"y" * 70}"\n')
    with pytest.raises(ProtocolError, match="is 70 characters long: a label has at most 64"):
        load_experiment(path)
