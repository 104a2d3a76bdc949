"""``proxies compute``: resumable, stored as a subset until complete, one line without torch.

synflow itself is replaced by a fake (an invented function of the index), so these tests run
without torch.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from nas_harness.benchmarks.proxies import synflow as sf
from nas_harness.benchmarks.proxies.store import load_stored
from nas_harness.cli import proxies_compute as pc
from nas_harness.cli.main import main


@pytest.fixture
def fake(monkeypatch):
    calls: list[tuple[int, str]] = []

    def fake_synflow(index: int, dataset: str) -> float:
        calls.append((index, dataset))
        return 1.0 + index * 0.5

    monkeypatch.setattr(sf, "synflow", fake_synflow)
    monkeypatch.setattr(sf, "require", lambda: (None, None))
    return calls


def test_resumes_where_it_stopped(tmp_path, fake):
    pc.compute("synflow", ["cifar10"], 5, progress=False, cache=tmp_path)
    assert len(fake) == 5
    record, _ = pc.compute("synflow", ["cifar10"], 8, progress=False, cache=tmp_path)
    assert len(fake) == 8  # only the 3 new ones
    assert [i for i, _ in fake] == sf.compute_order()[:8].tolist()
    assert record.subset and record.datasets == {"cifar10": 8}
    col = load_stored("synflow", "cifar10", tmp_path)
    first = int(sf.compute_order()[0])
    assert col.values[first] == 1.0 + first * 0.5 and np.isnan(col.values).sum() == 32768 - 8


def test_workers_give_the_same_scores(tmp_path, fake):
    pc.compute("synflow", ["cifar10"], 6, progress=False, cache=tmp_path / "a")
    pc.compute("synflow", ["cifar10"], 6, progress=False, cache=tmp_path / "b", workers=2)
    a = sf.read_work(pc.work_file("cifar10", tmp_path / "a"))
    b = sf.read_work(pc.work_file("cifar10", tmp_path / "b"))
    assert a == b and len(a) == 6


def test_dask_gives_the_same_scores(tmp_path, fake):
    distributed = pytest.importorskip("distributed")
    pc.compute("synflow", ["cifar10"], 5, progress=False, cache=tmp_path / "a")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        pc.compute("synflow", ["cifar10"], 5, progress=False, cache=tmp_path / "b",
                   scheduler=client)
    assert sf.read_work(pc.work_file("cifar10", tmp_path / "a")) == \
        sf.read_work(pc.work_file("cifar10", tmp_path / "b"))


def test_an_interrupted_run_keeps_what_it_computed(tmp_path, fake, monkeypatch):
    real = sf.synflow

    def interrupt_third(index: int, dataset: str) -> float:
        if len(fake) == 2:
            raise KeyboardInterrupt
        return real(index, dataset)

    monkeypatch.setattr(sf, "synflow", interrupt_third)
    with pytest.raises(KeyboardInterrupt):
        pc.compute("synflow", ["cifar100"], 5, progress=False, cache=tmp_path)
    assert len(sf.read_work(pc.work_file("cifar100", tmp_path))) == 2


def test_record_lists_the_first_architectures(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(sf, "versions", lambda: {"torch": "T", "xautodl": "X"})
    pc.compute("synflow", ["cifar10", "in16"], 4, progress=False, cache=tmp_path)
    csv, meta = pc.write_record(tmp_path / "rec.csv", ["cifar10", "in16"], 4, tmp_path)
    columns = pc.record_scores(csv)
    first = sf.compute_order()[:4]
    assert sorted(columns) == ["ImageNet16-120", "cifar10"]
    assert columns["cifar10"][first].tolist() == (1.0 + first * 0.5).tolist()
    assert '"torch": "T"' in meta.read_text()


def test_only_synflow_is_computable(tmp_path, fake):
    with pytest.raises(Exception, match=r"only synflow can be computed here.*proxies add zico"):
        pc.compute("zico", ["cifar10"], 1, progress=False, cache=tmp_path)


def test_cli_without_torch_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "torch", None)
    assert main(["proxies", "compute", "synflow", "--limit", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install --no-deps xautodl" in err


def test_cli_record_needs_limit(capsys):
    assert main(["proxies", "compute", "synflow", "--record", "x.csv"]) == 2
    assert "give --limit N" in capsys.readouterr().err
