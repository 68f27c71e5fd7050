"""fer_pipeline.training.provenance: a run records the CPU it trained on and the kernel path torch took there, because
the same code and params can give other numbers on another CPU (docs/reproducibility.md: Across CPUs)."""

from __future__ import annotations

import torch

from fer_pipeline.training import provenance


def test_cpu_record_names_the_cpu_its_capability_and_only_the_kernel_variables_that_are_set(monkeypatch):
    """cpu_record holds a non-empty CPU model, ATen's CPU capability as torch reports it in this process, and of the
    kernel-choosing variables exactly those set in the environment, with their values."""
    for k in provenance.KERNEL_ENV:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("MKL_CBWR", "AVX2")
    rec = provenance.cpu_record()
    assert isinstance(rec["model"], str) and rec["model"]
    assert rec["aten_capability"] == torch.backends.cpu.get_cpu_capability()
    assert rec["kernel_env"] == {"MKL_CBWR": "AVX2"}


def test_run_record_carries_the_cpu_record():
    """Every run record (run.json) has the cpu entry beside device and threads."""
    rec = provenance.run_record(torch.device("cpu"))
    assert rec["cpu"]["aten_capability"] == torch.backends.cpu.get_cpu_capability()
    assert rec["device"] == "cpu" and rec["torch_threads"] == torch.get_num_threads()


def test_denormals_reports_the_state_this_thread_computes_with():
    """denormals() says "flush" while denormal floats compute as zero and "keep" while they do not: it reads the
    state from a computation, so a run records what it actually had."""
    try:
        torch.set_flush_denormal(False)
        assert provenance.denormals() == "keep"
        torch.set_flush_denormal(True)
        assert provenance.denormals() == "flush"
        assert provenance.cpu_record()["denormals"] == "flush"
    finally:
        torch.set_flush_denormal(True)  # as fer_pipeline.training leaves every process
