"""What every conformance script shares: a hard deadline and a single JSON result on stdout.

A script reports facts (what it sent, what it received, what the broker answered) and the vitest test
judges them. Client logs go to stderr; stdout carries exactly one JSON document.
"""
import json
import os
import signal
import sys
import traceback


def emit(result):
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def arm_deadline(seconds):
    """Ends the process after `seconds`, whatever it is blocked in (a client call against a broken broker
    may never return). The test then fails on a `deadline` result instead of hanging."""

    def expire(*_):
        emit({"ok": False, "error": "deadline of %ss exceeded" % seconds,
              "stacks": {str(t): "".join(traceback.format_stack(f)) for t, f in sys._current_frames().items()}})
        os._exit(3)

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)


def group_scenario(produce, consume):
    """The produce-then-consume-in-a-group scenario both client scripts run, as one result document.
    `produce()` returns (partitions, produced, errors); `consume(partitions, keys)` returns
    (consumed, errors, commits, committed, high_watermarks)."""
    partitions, produced, produce_errors = produce()
    consumed, consume_errors, commits, committed, high_watermarks = consume(partitions, {r["key"] for r in produced})
    return {"partitions": partitions, "produced": produced, "produceErrors": produce_errors, "consumed": consumed,
            "consumeErrors": consume_errors, "commits": commits, "committed": committed,
            "highWatermarks": high_watermarks}


def run(main):
    """Runs `main()` (which returns a dict) and prints it with ok=True, or the exception with ok=False."""
    try:
        result = main()
        result["ok"] = True
    except Exception as error:  # noqa: BLE001 - the test shows whatever went wrong
        result = {"ok": False, "error": "%s: %s" % (type(error).__name__, error), "traceback": traceback.format_exc()}
    emit(result)
    # librdkafka / kafka-python background threads must not keep a finished script alive.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def hex_or_none(data):
    return None if data is None else bytes(data).hex()


def message_key(i):
    return ("key-%d" % i).encode()


def message_value(i):
    # Multi-byte UTF-8, a NUL and a non-UTF-8 byte: the value must come back byte for byte.
    return ("value-%d-ünïcødé-🐟" % i).encode() + b"\x00\xff" + bytes([i % 256])


def message_headers(i):
    # A repeated header name and a binary value: order and duplicates must survive.
    return [("index", str(i).encode()), ("binary", bytes([0, 255, i % 256])), ("dup", b"first"), ("dup", b"second")]


def headers_json(headers):
    return [[name, hex_or_none(value)] for name, value in (headers or [])]


def record_json(partition, offset, key, value, headers):
    return {"partition": partition, "offset": offset, "key": hex_or_none(key), "value": hex_or_none(value),
            "headers": headers_json(headers)}

