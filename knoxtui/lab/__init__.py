"""The lab: a local mTLS server with its own throwaway CA, for practice, the demo and the tests."""

from knoxtui.lab.authority import Authority, IssuedCertificate
from knoxtui.lab.server import BEHAVIOURS, CLIENT_ID, SERVER_NAME, LabFiles, LabServer

__all__ = [
    "BEHAVIOURS",
    "CLIENT_ID",
    "SERVER_NAME",
    "Authority",
    "IssuedCertificate",
    "LabFiles",
    "LabServer",
]
