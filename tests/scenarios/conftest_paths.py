"""Where the project's processes/ and forms/ live (for tests that copy them)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
