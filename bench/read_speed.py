"""Reading speed through a real PC/SC stack: a full CCCD read through
pcscd + vpcd, the simulated chip (in its own process, ``cccd simulate --vpcd``) sleeping for
its link model's time, comparing our adaptive read strategy with fixed READ BINARY chunks of
223 bytes (JMRTD, pypassport) and 160 bytes (NFCPassportReader).

Run (pcscd with vsmartcard-vpcd running)::

    .venv/bin/python -m bench.read_speed [--citizen ID] [--markdown]

CPU time is ``time.process_time()`` of this (the reading) process only: the card's work and
its link sleeps happen in the simulator's process.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time
from pathlib import Path

from fixtures.cards import build_card, chip_for_card
from fixtures.citizens import load_citizens
from reader import ReadOptions, keys_for_id_number, read_card
from reader.drivers.events import CardMonitor
from reader.drivers.pcsc import PCSCTransport
from reader.keys import AccessKey

READER = "Virtual PCD 00 00"
PORT = 35963
ROOT = Path(__file__).resolve().parents[1]
LINKS = ("106", "424", "contact")
STRATEGIES = {
    "adaptive (ours)": ReadOptions(),
    # The anchors SELECT each file by FID, then read fixed chunks.
    "fixed 223 (JMRTD, pypassport)": ReadOptions(ladder=(223,), use_sfi=False),
    "fixed 160 (NFCPassportReader)": ReadOptions(ladder=(160,), use_sfi=False),
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    link: str
    extended: bool
    strategy: str
    apdus: int
    bytes_sent: int
    bytes_received: int
    wall: float
    cpu: float
    protocol: str
    chip_auth: str


def _present(want: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    monitor = CardMonitor([READER], report_present=False)
    while True:
        state = monitor.snapshot().get(READER)
        if bool(state and state.present) == want:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{READER} did not become {'occupied' if want else 'empty'}")
        time.sleep(0.05)


def _simulator(citizen: str, link: str, extended: bool) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "service.cli.main",
        "simulate",
        "--vpcd",
        "--port",
        str(PORT),
        "--citizen",
        citizen,
        "--link",
        link,
    ]
    if not extended:
        command += ["--faults", "no_extended_length"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _present(True)
    return process


def _access(citizen: str) -> tuple[AccessKey, ReadOptions]:
    """The CAN when the simulated chip runs PACE (the simulator builds the same chip), else
    the card's BAC key."""
    card = build_card(citizen)
    chip = chip_for_card(card)
    if any(0x86 in extension.instructions for extension in chip.extensions):
        return keys_for_id_number(citizen)[0], ReadOptions()
    return card.bac_key, ReadOptions(allow_pace=False)


def run_one(citizen: str, link: str, extended: bool, strategy: str) -> Result:
    key, base = _access(citizen)
    options = dataclasses.replace(STRATEGIES[strategy], allow_pace=base.allow_pace)
    process = _simulator(citizen, link, extended)
    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        with PCSCTransport(READER, timeout=30.0) as transport:
            card = read_card(transport, key, options=options)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        chip_auth = (
            f"CA {card.chip_authentication.outcome}, AA {card.active_authentication.outcome}"
        )
        assert card.complete
    finally:
        process.terminate()
        process.wait()
        _present(False)
    return Result(
        link=link,
        extended=extended,
        strategy=strategy,
        apdus=card.stats.apdus,
        bytes_sent=card.stats.bytes_sent,
        bytes_received=card.stats.bytes_received,
        wall=wall,
        cpu=cpu,
        protocol=card.access_protocol,
        chip_auth=chip_auth,
    )


def markdown(results: list[Result]) -> str:
    lines = [
        "| link | chip takes extended length | strategy | APDUs | bytes sent | bytes received "
        "| wall time (s) | our CPU (ms) |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.link} | {'yes' if r.extended else 'no'} | {r.strategy} | {r.apdus} | "
            f"{r.bytes_sent} | {r.bytes_received} | {r.wall:.2f} | {r.cpu * 1000:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizen", default=load_citizens()[1].id_number)
    parser.add_argument("--links", nargs="*", default=list(LINKS))
    args = parser.parse_args()
    run_one(args.citizen, "424", True, "adaptive (ours)")  # warm imports and caches
    results = []
    for link in args.links:
        for extended in (True, False):
            for strategy in STRATEGIES:
                result = run_one(args.citizen, link, extended, strategy)
                results.append(result)
                print(
                    f"{link:>8} ext={extended!s:<5} {strategy:<30} {result.apdus:>4} APDUs "
                    f"{result.wall:6.2f} s  cpu {result.cpu * 1000:5.0f} ms  "
                    f"{result.protocol}, {result.chip_auth}",
                    file=sys.stderr,
                )
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
