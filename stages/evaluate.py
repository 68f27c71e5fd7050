"""evaluate: data/train/<run>/model.pt -> metrics/evaluate/<run>.json, data/evaluate/<run>/{predictions.csv, report.json}."""

import numpy as np

from fer_pipeline import cli, paths
from fer_pipeline.checkpoint import load_model
from fer_pipeline.dataset import data_label, load_dataset
from fer_pipeline.evaluate import audit_record, detail_report, evaluation_report, predictions_table
from fer_pipeline.io import atomic_path, read_json, write_json
from fer_pipeline.params import EvaluateParams, ParamsFile, RuntimeParams
from fer_pipeline.tensors import load_split_tensors
from fer_pipeline.train import predict, resolve_device


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[str, EvaluateParams]:
    """The device (on CUDA predictions run under bf16 autocast, so it can change them) and how every evaluation
    predicts."""
    return pf.field(RuntimeParams, "runtime.device"), pf.section(EvaluateParams, "evaluate")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    evaluate(args.variant, *read_params(args, ParamsFile(args.params)))


def evaluate(variant: str, device_name: str, how: EvaluateParams, data: dict | None = None) -> None:
    """Predict the test set with run `variant`'s checkpoint and write its metrics, predictions and report
    (`data`: the split's tensors with x_test/y_test when the caller already holds them)."""
    device = resolve_device(device_name)
    model, _ = load_model(paths.model_file(variant))
    data = data if data is not None else load_split_tensors(("test",))
    test_idx = np.load(paths.SPLIT)["test"]
    twin = np.load(paths.DUPLICATES)["test_twin"][test_idx]
    ids = load_dataset(paths.DATASET).ids[test_idx]
    _, probs = predict(model.to(device), data["x_test"], device, how.tta)
    y_true, y_pred = data["y_test"].numpy(), probs.argmax(1).numpy()
    manifest = read_json(paths.MANIFEST)
    label = data_label(manifest)
    report = evaluation_report(y_true, y_pred, twin, label)
    with atomic_path(paths.predictions_file(variant)) as tmp:
        predictions_table(ids, y_true, probs.numpy(), twin).to_csv(tmp, index=False)
    # Provenance is no metric: it goes beside the per-class report, not into the metrics file.
    audit = audit_record(manifest, read_json(paths.run_file(variant)))
    write_json(paths.report_file(variant), {**detail_report(y_true, y_pred), "tta": how.tta, "audit": audit})
    write_json(paths.eval_file(variant), report)
    t = report["test"]
    print(f"evaluate {variant} [{label}]: test accuracy {t['accuracy']:.4f}, macro recall {t['macro_recall']:.4f}, "
          f"macro F1 {t['macro_f1']:.4f}; dedup macro recall {report['test_dedup']['macro_recall']:.4f}")


if __name__ == "__main__":
    cli.run(main)
