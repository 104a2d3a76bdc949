"""The sweep-timing script reads each complete run's wall time from its sidecar."""

import json

from sweep_fixtures import synthetic_table

from nas_harness.benchmarks.run_files import iter_sidecars
from nas_harness.sweep import SweepSpec, run_sweep
from tools.speed.run_times import collect, main


def test_times_per_label_come_from_complete_sidecars_only(tmp_path, capsys):
    spec = SweepSpec(algorithms=("random", "evolution"), datasets=("cifar10", "cifar100"),
                     runs=3, budget=20)
    assert run_sweep(spec, tmp_path, workers=1, progress=False, table=synthetic_table()).ok
    for k, path in enumerate(iter_sidecars(tmp_path)):  # known wall times: 0.1, 0.2, ...
        record = json.loads(path.read_text())
        record["timing"]["wall_s"] = 0.1 * (k + 1)
        if k == 0:
            record["status"] = "failed"  # not counted
        path.write_text(json.dumps(record))
    rows = {row.label: row for row in collect(tmp_path, datasets=["cifar100"])}
    assert sorted(rows) == ["evolution", "random"]
    # sidecars sorted by dataset, label, run: cifar10 evolution 0-2, random 3-5, cifar100 ...
    assert [round(s, 6) for s in rows["evolution"].seconds] == [0.7, 0.8, 0.9]
    assert rows["evolution"].queries == (20, 20, 20)
    assert round(rows["evolution"].median_ms_per_query, 6) == 40.0  # 0.8 s / 20 queries
    everything = {row.label: row for row in collect(tmp_path)}
    assert len(everything["evolution"].seconds) == 5  # the failed one left out
    assert main([str(tmp_path), "--dataset", "cifar100"]) == 0
    out = capsys.readouterr().out
    assert "| `evolution` | 3 | 0.7 s | 0.8 s | 0.9 s | 40 |" in out
    assert "All labels: 6 runs" in out


def test_an_empty_directory_says_so(tmp_path, capsys):
    assert main([str(tmp_path)]) == 1
    assert "no complete runs with timings" in capsys.readouterr().out
