"""python -m bench NAME [options]: ingest, retrieval, known_item, corpus, grounding, web, drafting, sentences,
summary_facts, chunking, faults_input, faults, ask, encoder_variants."""

import importlib
import sys

BENCHES = (
    "ingest",
    "retrieval",
    "known_item",
    "corpus",
    "grounding",
    "web",
    "drafting",
    "sentences",
    "summary_facts",
    "chunking",
    "faults_input",
    "faults",
    "ask",
    "encoder_variants",
)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in BENCHES:
        print(f"usage: python -m bench {{{','.join(BENCHES)}}} [options]   (each has --help)")
        return 2
    name = sys.argv.pop(1)
    sys.argv[0] = f"python -m bench {name}"
    module = importlib.import_module(f"bench.{name}")
    return module.main() or 0


if __name__ == "__main__":
    sys.exit(main())
