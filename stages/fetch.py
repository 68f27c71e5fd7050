"""fetch: data.* -> data/fetch/{dataset.npz, duplicates.npz, manifest.json}."""

from fer_pipeline import cli
from fer_pipeline.data.fetch import fetch, write_fetch
from fer_pipeline.params import DataParams, ParamsFile


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> DataParams:
    return pf.section(DataParams, "data")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    ds, dups, manifest = fetch(read_params(args, ParamsFile(args.params)))
    write_fetch(ds, dups, manifest)
    d = manifest["duplicates"]
    print(f"fetch: {manifest['data']} from {manifest['source']}: {len(ds)} images "
          f"({sum(manifest['counts']['train'].values())} train, {sum(manifest['counts']['test'].values())} test); "
          f"{d['duplicate_groups']} duplicate groups, {d['test_images_with_train_twin']} test images with a train twin")


if __name__ == "__main__":
    cli.run(main)
