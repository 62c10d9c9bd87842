"""Build hook: compile the translation catalogs into the wheel (.mo files are not committed)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileTranslations(BuildHookInterface):
    PLUGIN_NAME = "compile-translations"

    def initialize(self, version, build_data):
        if self.target_name != "wheel" or version == "editable":
            return  # an editable install uses the checkout, where `make` compiles them
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(self.root)
        out = Path(tempfile.mkdtemp(prefix="voortgang-mo-"))
        for po in sorted((root / "translations").glob("*/LC_MESSAGES/messages.po")):
            relative = po.relative_to(root / "translations").with_suffix(".mo")
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source)
            with target.open("wb") as sink:
                write_mo(sink, catalog)
            build_data["force_include"][str(target)] = f"voortgang/translations/{relative.as_posix()}"
