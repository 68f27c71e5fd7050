"""choose: validation metrics of every factor's runs -> data/choose/choice.json (test is never read).

(The issue calls this the select stage; a script named select.py would shadow Python's own
`select` module for everything the stage imports.)
"""

from fer_pipeline import cli
from fer_pipeline.choose import choose, valid_recalls
from fer_pipeline.io import write_json
from fer_pipeline.variants import FACTORS, study_variants


def main() -> None:
    params = cli.stage_params(cli.stage_args(__doc__))
    variants = study_variants(params)
    valid = {f: valid_recalls(variants[f], params.study.seeds) for f in FACTORS}
    choice = choose(valid)
    write_json("data/choose/choice.json", {**choice, "valid_macro_recall": valid})
    print("choose: " + ", ".join(f"{k}={v}" for k, v in choice.items()))


if __name__ == "__main__":
    cli.run(main)
