"""Importers of real dataset formats into the label store."""
from core.ingest.records import ImportFailed, ImportReport, PendingSample, RowError
from core.ingest.run import PARSERS, import_path, register_parser

__all__ = ["ImportFailed", "ImportReport", "PendingSample", "RowError", "PARSERS", "import_path",
           "register_parser"]
