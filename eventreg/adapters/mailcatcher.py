"""A development SMTP server (aiosmtpd) that writes each message to an .eml file."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller


class SaveToFolder:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 OK"


def serve(folder: Path, host: str, port: int) -> None:
    controller = Controller(SaveToFolder(folder), hostname=host, port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
