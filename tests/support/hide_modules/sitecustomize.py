"""Make the modules named in BTAI_HIDE_MODULES (comma-separated) fail to import, as if their
package were not installed. Put this folder first on PYTHONPATH of a subprocess."""

import os
import sys
from importlib.abc import MetaPathFinder

HIDDEN = {name for name in os.environ.get("BTAI_HIDE_MODULES", "").split(",") if name}


class HideModules(MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        if fullname.split(".", 1)[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


if HIDDEN:
    sys.meta_path.insert(0, HideModules())
