"""What each reader quirk costs, through a real PC/SC stack: a full CCCD read through pcscd +
vpcd with the simulated chip (in a thread of this process, sleeping for its 424 kbit/s link
model) behind each quirk of ``fixtures.quirks``, twice on the same reader: the first read
with nothing known about the reader, the second with what the first learned
(``reader.profile``), as the service and ``cccd read`` do with their reader memory.

Run (pcscd with vsmartcard-vpcd running, reader ``Virtual PCD 00 00`` free)::

    .venv/bin/python -m bench.reader_quirks [--citizen ID] [--link 424]

``--in-process`` reads through the quirk in process instead (a transport with only
``transmit`` and ``close``; no pcscd needed), where every APDU -- GET RESPONSEs included --
passes the reader's counter.

Wall time includes the link model's sleeps, pcscd's presence poll after a card loss, and the
reader's one-second check whether a failed command means the card left.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from typing import Any

from fixtures.cards import build_card, chip_for_card
from fixtures.citizens import load_citizens
from fixtures.link import LINKS
from fixtures.quirks import AnswerCap, CardLostFor, ExtendedApduFails, SpuriousReset, T0Card
from fixtures.vpcd import VpcdCard
from reader import CANKey, read_card
from reader.drivers.events import CardMonitor
from reader.drivers.pcsc import PCSCTransport
from reader.profile import ReaderProfile

READER = "Virtual PCD 00 00"
PORT = 35963


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    quirk: str
    read: str
    apdus: int
    wire: int  # commands the card side received (GET RESPONSEs and failed ones included)
    wall: float
    recoveries: tuple[str, ...]
    protocol: str


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


QUIRKS: dict[str, Callable[[Any], Any]] = {
    "none (a reader that does everything right)": lambda chip: chip,
    "extended APDUs fail at the reader (ACR1252U)": ExtendedApduFails,
    "answers capped at 2048 bytes": lambda chip: AnswerCap(chip, 2048),
    "T=0 (61xx + GET RESPONSE, 6Cxx)": T0Card,
    "spurious reset after a slow command (APDU 12, 0.3 s)": lambda chip: SpuriousReset(
        chip, apdu=12, delay=0.3, back_after=0.6
    ),
    "card lost 500 ms at APDU 13": lambda chip: CardLostFor(chip, apdu=13, seconds=0.5),
}


class _Bare:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def transmit(self, apdu: bytes) -> bytes:
        answer: bytes = self.inner.transmit(apdu)
        return answer

    def close(self) -> None:
        pass


def run_in_process(citizen: str, link: str) -> list[Result]:
    card = build_card(citizen)
    key = CANKey(card.can)
    results = []
    for name, make in QUIRKS.items():
        profile = ReaderProfile()
        for which in ("first", "second"):
            chip = chip_for_card(card, link=LINKS[link], sleep_for_link=True)
            served = make(chip)
            started = time.perf_counter()
            result = read_card(_Bare(served), key, profile=profile)
            wall = time.perf_counter() - started
            assert result.complete, name
            profile = result.profile(profile)
            protocol = "T=0" if isinstance(served, T0Card) else "T=1"
            results.append(_result(name, which, result, served, chip, wall, protocol))
    return results


def run(citizen: str, link: str) -> list[Result]:
    card = build_card(citizen)
    key = CANKey(card.can)
    results = []
    vpcd = VpcdCard(PORT)
    try:
        for name, make in QUIRKS.items():
            profile = ReaderProfile()
            for which in ("first", "second"):
                chip = chip_for_card(card, link=LINKS[link], sleep_for_link=True)
                _present(False)
                served = make(chip)
                vpcd.insert(served)
                _present(True)
                started = time.perf_counter()
                with PCSCTransport(
                    READER, timeout=30.0, extended_length=profile.extended_length
                ) as transport:
                    result = read_card(transport, key, profile=profile)
                    protocol = transport.protocol
                wall = time.perf_counter() - started
                assert result.complete, name
                profile = result.profile(profile, protocol)
                results.append(_result(name, which, result, served, chip, wall, protocol))
                print(
                    f"{name:<55} {which:<6} {result.stats.apdus:>4} APDUs {wall:6.2f} s "
                    f"{protocol} {','.join(result.recoveries) or '-'}",
                    file=sys.stderr,
                )
                vpcd.remove()
    finally:
        vpcd.stop()
    return results


def _result(
    quirk: str, which: str, result: Any, served: Any, chip: Any, wall: float, protocol: str
) -> Result:
    """One row: the reader's APDUs, and the card side's (the quirk's count, else the chip's)."""
    return Result(
        quirk=quirk,
        read=which,
        apdus=result.stats.apdus,
        wire=served.apdus if served is not chip else chip.counters.apdus,
        wall=wall,
        recoveries=tuple(result.recoveries),
        protocol=protocol,
    )


def markdown(results: list[Result]) -> str:
    lines = [
        "| reader quirk | read | APDUs (reader) | APDUs (card side) | wall time (s) | protocol "
        "| recoveries |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.quirk} | {r.read} | {r.apdus} | {r.wire} | {r.wall:.2f} | {r.protocol} | "
            f"{', '.join(r.recoveries) or '—'} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizen", default=load_citizens()[1].id_number)
    parser.add_argument("--link", default="424", choices=sorted(LINKS))
    parser.add_argument("--in-process", action="store_true", help="no pcscd: in process")
    args = parser.parse_args()
    runner = run_in_process if args.in_process else run
    print(markdown(runner(args.citizen, args.link)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
