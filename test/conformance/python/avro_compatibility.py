"""Apache Avro's own verdict on schema evolutions: Debian's python3-avro parses each schema and its
ReaderWriterCompatibilityChecker (the port of Java Avro's SchemaCompatibility) says whether the reader reads
the writer's data. Nothing of Shoal's code is involved.

    avro_compatibility.py DEADLINE_S < pairs.json

stdin: a JSON array of {"reader": <schema text>, "writer": <schema text>}. One JSON document on stdout:
{"avro": <version>, "verdicts": [...]}, one verdict per pair in order: "compatible", "incompatible",
"invalid writer" or "invalid reader" (that schema does not parse), with "problems" saying why for each
pair that is not compatible.
"""
import json
import sys

import avro
import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from script_harness import arm_deadline, run

arm_deadline(int(sys.argv[1]))


def parsed(text, cache):
    """The parsed schema, or the parser's complaint; each distinct text is parsed once."""
    if text not in cache:
        try:
            cache[text] = (avro.schema.parse(text), None)
        except Exception as error:  # noqa: BLE001 - any refusal is the verdict
            cache[text] = (None, "%s: %s" % (type(error).__name__, error))
    return cache[text]


def main():
    pairs = json.load(sys.stdin)
    cache = {}
    verdicts = []
    problems = []
    for pair in pairs:
        writer, writer_error = parsed(pair["writer"], cache)
        reader, reader_error = parsed(pair["reader"], cache)
        if writer_error is not None:
            verdicts.append("invalid writer")
            problems.append([writer_error])
            continue
        if reader_error is not None:
            verdicts.append("invalid reader")
            problems.append([reader_error])
            continue
        # A checker per pair: its memo holds schema objects, which the cache shares between pairs.
        result = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
        compatible = result.compatibility is SchemaCompatibilityType.compatible
        verdicts.append("compatible" if compatible else "incompatible")
        problems.append([] if compatible else sorted({i.value for i in result.incompatibilities}) + sorted(result.messages))
    return {"avro": getattr(avro, "__version__", "unknown"), "verdicts": verdicts, "problems": problems}


run(main)
