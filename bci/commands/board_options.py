"""``--board NAME`` and BrainFlow's connection options, shared by the commands that read EEG.

``bci live``, ``record``, ``calibrate``, ``info`` and ``stream`` accept ``--board`` instead
of ``--stream``: the board is read directly with
:class:`~acquisition.brainflow_source.BrainFlowSource`. Not a command itself (no
``register``); BrainFlow is imported only when a board is opened.
"""

from __future__ import annotations

import argparse

BOARD_HELP = (
    "read a BrainFlow board directly instead of an LSL stream: synthetic, cyton, cyton_daisy, "
    "ganglion, muse_s, muse_2, unicorn, ... (any BrainFlow board name or number), or "
    "playback:FILE.csv"
)


def add_board_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``--board`` and the connection options (``--serial-port``, ``--mac-address``...)."""
    g = p.add_argument_group("BrainFlow board (instead of --stream)")
    g.add_argument("--board", metavar="NAME", help=BOARD_HELP)
    g.add_argument(
        "--serial-port", default="", metavar="DEV", help="serial device, e.g. /dev/ttyUSB0, COM3"
    )
    g.add_argument("--mac-address", default="", metavar="MAC", help="Bluetooth MAC address")
    g.add_argument("--ip-address", default="", metavar="IP", help="IP address (WiFi boards)")
    g.add_argument("--ip-port", type=int, default=0, metavar="PORT", help="IP port")
    g.add_argument(
        "--serial-number", default="", metavar="SN", help="device serial number (Unicorn, Muse)"
    )
    g.add_argument(
        "--board-timeout",
        type=int,
        default=0,
        metavar="S",
        help="seconds BrainFlow searches for a Bluetooth board (default: BrainFlow's)",
    )
    g.add_argument(
        "--master-board",
        default="synthetic",
        metavar="NAME",
        help="with playback:FILE or streaming: the board that wrote the data (default synthetic)",
    )
    g.add_argument(
        "--board-extra",
        default="",
        metavar="ROWS",
        help="rows besides EEG, comma-separated: accel, aux, counter (the package number)",
    )


def check_board_or_stream(args: argparse.Namespace, command: str) -> None:
    """Refuse ``--board`` together with ``--stream`` (they are alternatives)."""
    if getattr(args, "board", None) and getattr(args, "stream", None):
        from bci.errors import BCIError

        raise BCIError(
            f"{command}: got both --stream {args.stream!r} and --board {args.board!r}; "
            "give one of them"
        )


def open_board(args: argparse.Namespace, *, name: str | None = None):  # -> BrainFlowSource
    """Open the board named by ``args.board`` with the connection options of ``args``."""
    from acquisition.brainflow_source import BoardConnection, BrainFlowSource

    connection = BoardConnection(
        serial_port=args.serial_port,
        mac_address=args.mac_address,
        ip_address=args.ip_address,
        ip_port=args.ip_port,
        serial_number=args.serial_number,
        timeout=args.board_timeout,
        master_board=args.master_board,
    )
    extra = [e for e in args.board_extra.split(",") if e.strip()]
    return BrainFlowSource(args.board, connection, extra=extra, name=name)


def publish_board(source, name: str):  # (BrainFlowSource, str) -> Player
    """Publish an open board on LSL as ``name`` (+ ``name-markers``), its timestamps kept.

    The EEG outlet carries the same channel metadata as any player stream (labels, types,
    units) with BrainFlow's device name as manufacturer.
    """
    from acquisition.player import Player

    return Player(
        source,
        name=name,
        source_id=f"{source.info.source_id}-{name}",
        manufacturer=source.manufacturer,
        keep_timestamps=True,
    )


def private_stream_name(board: str) -> str:
    """A stream name no other program uses, for a board published only for this command."""
    import uuid

    safe = "".join(c if c.isalnum() else "-" for c in str(board))
    return f"bci-board-{safe}-{uuid.uuid4().hex[:6]}"
